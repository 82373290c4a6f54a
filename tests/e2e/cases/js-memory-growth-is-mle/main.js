// An array that grows by a megabyte at a time until the memory cap refuses
// it.
const xs = [];
while (true) xs.push(new Uint8Array(1 << 20));
