// Reads n, asks once, then loops forever.
const rl = require('readline').createInterface({ input: process.stdin });
rl.once('line', (n) => {
  console.log(`? ${n}`);
  for (let i = 0; ; i++) {}
});
