console.log(3)
