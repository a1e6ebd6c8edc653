// The one activity the complete-mode workflow runs: trivial, so the numbers measure the server.
export async function echo(n: number): Promise<number> {
  return n;
}
