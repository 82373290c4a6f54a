// Prints the largest proper divisor: not the one in the .out files, but right.
const n = Number(readline());
let d = 2;
while (n % d !== 0) d++;
print(n / d);
