// Asks 1, 2, 3, … in turn: far more than 30 queries for a large number.
const rl = require('readline').createInterface({ input: process.stdin });
let x = 0;
rl.on('line', (line) => {
  if (line === '=') {
    console.log(`! ${x}`);
    rl.close();
    return;
  }
  x += 1;
  console.log(`? ${x}`);
});
