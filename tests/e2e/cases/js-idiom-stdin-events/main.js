// process.stdin events with setEncoding, process.stdout.write.
process.stdin.setEncoding('utf8');
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const xs = input.split(/\s+/).filter(Boolean).map(Number);
  process.stdout.write(String(xs.slice(1).reduce((a, b) => a + b, 0)) + '\n');
});
