// Writes the query without its newline: the interactor waits for the end of
// the number while the program waits for the reply (a deadlock).
const rl = require('readline').createInterface({ input: process.stdin });
rl.once('line', (n) => {
  process.stdout.write(`? ${Math.floor(Number(n) / 2)}`);
  rl.once('line', () => console.log('! 1'));
});
