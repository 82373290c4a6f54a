// for await over a readline interface, inside an async main.
const readline = require('readline');
async function main() {
  const rl = readline.createInterface({ input: process.stdin });
  let first = true, sum = 0n;
  for await (const line of rl) {
    if (first) { first = false; continue; }
    for (const x of line.split(' ')) sum += BigInt(x);
  }
  console.log(`${sum}`);
}
main();
