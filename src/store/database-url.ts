// DATABASE_URL without a driver: read by the settings and the logs, which must not load pg.

/** Whether `url` is a PostgreSQL connection URL (`postgres://` or `postgresql://`). */
export const isPostgresUrl = (url: string): boolean => /^postgres(?:ql)?:\/\//i.test(url);

/** The password in a PostgreSQL URL (in its user part or as a `password=` parameter), decoded, if any. */
export function passwordsOf(url: string): string[] {
  try {
    const u = new URL(url);
    const found = [u.password, decodeURIComponent(u.password), u.searchParams.get('password') ?? ''];
    return [...new Set(found.filter((p) => p !== ''))];
  } catch {
    return [];
  }
}

/** The URL without its password, for logs and errors (`postgres://lookout@db:5432/lookout`). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    u.searchParams.delete('password');
    return u.toString();
  } catch {
    return 'DATABASE_URL (not a valid URL)';
  }
}
