// Throws: an uncaught exception is a runtime error.
const line = readline();
throw new Error('not implemented: ' + line);
