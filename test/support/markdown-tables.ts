/** The cells of a Markdown table row (`| a | b \| c |` → `['a', 'b \| c']`), trimmed. */
export function cellsOf(row: string): string[] {
  const inner = row.trim().replace(/^\|/, '').replace(/(?<!\\)\|$/, '');
  return inner.split(/(?<!\\)\|/).map((c) => c.trim());
}

/**
 * Every table of `markdown` whose header row has exactly the given columns (case as written): the rows
 * below its `|---|` line, as cells, each with its line number (1-based) for messages.
 */
export function tablesWithHeader(markdown: string, columns: readonly string[]): Array<Array<{ line: number; cells: string[] }>> {
  const lines = markdown.split('\n');
  const tables: Array<Array<{ line: number; cells: string[] }>> = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.trim().startsWith('|')) continue;
    const header = cellsOf(lines[i]!);
    if (header.length !== columns.length || header.some((c, k) => c !== columns[k])) continue;
    const rows: Array<{ line: number; cells: string[] }> = [];
    let j = i + 2; // past the header and its |---|---| line
    for (; j < lines.length && lines[j]!.trim().startsWith('|'); j++) rows.push({ line: j + 1, cells: cellsOf(lines[j]!) });
    tables.push(rows);
    i = j;
  }
  return tables;
}
