// Recursion 10^5 deep is ordinary contest code (a DFS down a path-shaped
// tree): a plain recursive function and a DFS with a loop and two locals
// both get there, under the problem's 64 MiB memory limit.
const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\s+/).map(Number);
const n = 100000;

function depth(k) {
  return k === 0 ? 0 : depth(k - 1) + 1;
}

const children = Array.from({ length: n }, (_, i) => (i + 1 < n ? [i + 1] : []));
const seen = new Uint8Array(n);
let visited = 0;
function dfs(u) {
  seen[u] = 1;
  visited++;
  for (let i = 0; i < children[u].length; i++) {
    const v = children[u][i];
    if (!seen[v]) dfs(v);
  }
}
dfs(0);

console.log(a + b + depth(n) - n + visited - n);
