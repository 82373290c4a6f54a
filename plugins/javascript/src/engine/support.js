// Node-style stdin events for competitive programs: `require('readline')`,
// `require('events')` and `process.stdin.on('data' | 'end', ...)`.
//
// Evaluated lazily (only by programs that touch these APIs) as one function
// expression; `N` holds native helpers: `readLine()` (next line without its
// terminator, or undefined at the end), `readAll(encoding)` (the rest of stdin as
// a string, or as a Buffer-like Uint8Array without an encoding).
//
// Events are emitted after the main script and its promise jobs have run, as
// in Node; `drive()` is called by the engine then and returns whether it did
// anything.
(function (N) {
  'use strict';

  class EventEmitter {
    constructor() {
      this._events = Object.create(null);
    }
    on(event, listener) {
      (this._events[event] || (this._events[event] = [])).push(listener);
      return this;
    }
    addListener(event, listener) {
      return this.on(event, listener);
    }
    prependListener(event, listener) {
      (this._events[event] || (this._events[event] = [])).unshift(listener);
      return this;
    }
    once(event, listener) {
      const self = this;
      function wrapper(...args) {
        self.off(event, wrapper);
        return listener.apply(self, args);
      }
      wrapper.listener = listener;
      return this.on(event, wrapper);
    }
    off(event, listener) {
      const list = this._events[event];
      if (list) {
        const i = list.findIndex((f) => f === listener || f.listener === listener);
        if (i >= 0) list.splice(i, 1);
      }
      return this;
    }
    removeListener(event, listener) {
      return this.off(event, listener);
    }
    removeAllListeners(event) {
      if (event === undefined) this._events = Object.create(null);
      else delete this._events[event];
      return this;
    }
    emit(event, ...args) {
      const list = this._events[event];
      if (list === undefined || list.length === 0) return false;
      if (list.length === 1) {
        list[0].apply(this, args);
        return true;
      }
      const copy = list.slice();
      for (let i = 0; i < copy.length; i++) copy[i].apply(this, args);
      return true;
    }
    listenerCount(event) {
      const list = this._events[event];
      return list ? list.length : 0;
    }
    listeners(event) {
      return (this._events[event] || []).map((f) => f.listener || f);
    }
    setMaxListeners() {
      return this;
    }
  }

  const interfaces = [];

  class Interface extends EventEmitter {
    constructor() {
      super();
      this.closed = false;
      this.terminal = false;
      this.line = '';
      this._paused = false;
      interfaces.push(this);
    }
    close() {
      if (!this.closed) {
        this.closed = true;
        this.emit('close');
      }
    }
    pause() {
      this._paused = true;
      this.emit('pause');
      return this;
    }
    resume() {
      this._paused = false;
      this.emit('resume');
      return this;
    }
    setPrompt() {}
    getPrompt() {
      return '';
    }
    prompt() {}
    write() {}
    question(query, options, callback) {
      const cb = typeof options === 'function' ? options : callback;
      const line = this.closed ? undefined : N.readLine();
      Promise.resolve().then(() => cb(line === undefined ? '' : line));
    }
    _drive() {
      if (this.closed || this._paused) return false;
      // The hot loop of line-driven programs: call a single listener directly.
      while (!this.closed && !this._paused) {
        const line = N.readLine();
        if (line === undefined) break;
        const list = this._events.line;
        if (list !== undefined && list.length === 1) list[0].call(this, line);
        else this.emit('line', line);
      }
      if (!this._paused) this.close();
      return true;
    }
    [Symbol.asyncIterator]() {
      const rl = this;
      return {
        next() {
          const line = rl.closed ? undefined : N.readLine();
          if (line === undefined) {
            rl.close();
            return Promise.resolve({ value: undefined, done: true });
          }
          return Promise.resolve({ value: line, done: false });
        },
        return() {
          rl.close();
          return Promise.resolve({ value: undefined, done: true });
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    }
  }

  const readline = {
    Interface,
    createInterface() {
      return new Interface();
    },
    clearLine() {},
    cursorTo() {},
    moveCursor() {},
    emitKeypressEvents() {},
  };
  readline.promises = {
    Interface,
    createInterface() {
      const rl = new Interface();
      rl.question = (query) =>
        new Promise((resolve) => {
          const line = rl.closed ? undefined : N.readLine();
          resolve(line === undefined ? '' : line);
        });
      return rl;
    },
  };

  class Stdin extends EventEmitter {
    constructor() {
      super();
      this.fd = 0;
      this.isTTY = false;
      this.readable = true;
      this._encoding = null;
      this._ended = false;
    }
    setEncoding(encoding) {
      this._encoding = encoding === undefined ? 'utf8' : encoding;
      return this;
    }
    resume() {
      return this;
    }
    pause() {
      return this;
    }
    read() {
      if (this._ended) return null;
      this._ended = true;
      const data = N.readAll(this._encoding);
      return data.length ? data : null;
    }
    _drive() {
      if (this._ended) return false;
      const wanted = ['data', 'end', 'readable', 'close'].some((e) => this.listenerCount(e) > 0);
      if (!wanted) return false;
      if (this.listenerCount('readable') > 0) {
        this.emit('readable');
        if (!this._ended) this.read();
      } else {
        this._ended = true;
        const data = N.readAll(this._encoding);
        if (data.length) this.emit('data', data);
      }
      this.emit('end');
      this.emit('close');
      return true;
    }
    [Symbol.asyncIterator]() {
      const stdin = this;
      return {
        next() {
          const data = stdin.read();
          return Promise.resolve(data === null ? { value: undefined, done: true } : { value: data, done: false });
        },
        return() {
          stdin._ended = true;
          return Promise.resolve({ value: undefined, done: true });
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    }
  }

  const stdin = new Stdin();

  function drive() {
    for (const rl of interfaces) {
      if (rl._drive()) return true;
    }
    return stdin._drive();
  }

  return { readline, stdin, EventEmitter, drive };
})
