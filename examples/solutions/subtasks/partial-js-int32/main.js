// 32-bit sums: right for the first two subtasks only.
const n = Number(readline());
const xs = readline().split(' ');
let sum = 0;
for (let i = 0; i < n; i++) sum = (sum + Number(xs[i])) | 0;
print(sum);
