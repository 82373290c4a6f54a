// V8-shell style: readline() until it returns undefined, print().
const n = Number(readline());
let sum = 0, seen = 0, line;
while ((line = readline()) !== undefined) {
  for (const x of line.split(' ')) if (x !== '') { sum += Number(x); seen++; }
}
print(seen === n ? sum : 'count ' + seen);
