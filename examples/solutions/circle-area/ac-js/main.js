const r = parseFloat(readline());
console.log((Math.PI * r * r).toFixed(9));
