// require('readline'): on('line') for each line, on('close') at the end.
const rl = require('readline').createInterface({ input: process.stdin, terminal: false });
const rows = [];
rl.on('line', (line) => rows.push(line));
rl.on('close', () => {
  const xs = rows.slice(1).join(' ').split(' ').filter((x) => x.length);
  console.log(xs.reduce((a, x) => a + +x, 0));
});
