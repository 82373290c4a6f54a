// The same search driven by readline's 'line' events.
const rl = require('readline').createInterface({ input: process.stdin });
let lo = 0, hi = 0, mid = 0;
rl.on('line', (line) => {
  if (hi === 0) {
    lo = 1;
    hi = Number(line);
  } else if (line === '=') {
    console.log(`! ${mid}`);
    rl.close();
    return;
  } else if (line === '<') {
    hi = mid - 1;
  } else {
    lo = mid + 1;
  }
  mid = Math.floor((lo + hi) / 2);
  console.log(`? ${mid}`);
});
