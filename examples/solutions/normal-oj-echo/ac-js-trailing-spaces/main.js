// Trailing spaces on a line are ignored by Normal-OJ's rule.
let line;
while ((line = readline()) !== null && line !== undefined) print(line + '   ');
