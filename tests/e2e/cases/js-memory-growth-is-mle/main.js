// An array that grows by a megabyte at a time until the memory cap refuses
// it. (Growing it by numbers one at a time, boa runs out of fuel first: TLE.)
const xs = [];
while (true) xs.push(new Uint8Array(1 << 20));
