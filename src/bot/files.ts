import { request } from 'undici';

/** Thrown when a file a user sent cannot be fetched from the Bot API; never carries the token or the URL. */
export class FileDownloadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FileDownloadError';
  }
}

/** Downloads files users sent (`getFile`'s `file_path`) from the Bot API's file endpoint, at most `maxBytes`. */
export function createFileDownloader(apiRoot: string, token: string): (filePath: string, maxBytes: number) => Promise<Buffer> {
  return async (filePath, maxBytes) => {
    let res;
    try {
      res = await request(`${apiRoot}/file/bot${token}/${filePath.split('/').map(encodeURIComponent).join('/')}`, { headersTimeout: 30_000, bodyTimeout: 30_000 });
    } catch (err) {
      throw new FileDownloadError('could not reach the Bot API to download the file', { cause: (err as Error).name });
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new FileDownloadError(`the Bot API answered HTTP ${res.statusCode} for the file`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        res.body.destroy();
        throw new FileDownloadError(`the file is larger than ${maxBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  };
}
