// An async function that throws: nobody handles the rejection.
async function solve(line) {
  if (line.includes(' ')) throw new TypeError('bad input');
}
solve(readline());
