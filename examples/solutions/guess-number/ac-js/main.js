// Binary search with readline's async iterator; console.log writes through.
const readline = require('readline');
const rl = readline.createInterface({ input: process.stdin });
const lines = rl[Symbol.asyncIterator]();

async function main() {
  const n = Number((await lines.next()).value);
  let lo = 1, hi = n;
  for (;;) {
    const mid = Math.floor((lo + hi) / 2);
    console.log(`? ${mid}`);
    const reply = (await lines.next()).value;
    if (reply === '=') {
      console.log(`! ${mid}`);
      break;
    }
    if (reply === '<') hi = mid - 1;
    else lo = mid + 1;
  }
  rl.close();
}
main();
