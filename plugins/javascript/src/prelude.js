// The globals a contestant expects, on top of QuickJS-NG's ES2023:
// the V8 shell's `print`/`readline` and Node's `console`, `process`,
// `require('fs' | 'readline' | 'events' | 'util' | 'os')`, timers, Buffer-ish
// stdin bytes.
//
// Evaluated once per run as one function expression, called with `N`, the
// native helpers of engine.rs: readLine() (next line without its end, or
// undefined at EOF), readAll() (rest of stdin as a string), readBytes() (rest
// of stdin as a Uint8Array), decode(u8) (UTF-8 to string), write(fd, text),
// exit(code) (throws an uncatchable error), splitWs(text, spacesOnly).
// It returns what the engine calls after the script: drive() (one round of
// timers and stdin events; whether it did anything) and describe(error)
// (the text of an uncaught error).
(function (N, argv) {
  'use strict';
  const G = globalThis;
  const hidden = (obj, name, value) =>
    Object.defineProperty(obj, name, { value, writable: true, configurable: true, enumerable: false });

  // ---- inspect: Node-like rendering of values --------------------------------
  const IDENT = /^[A-Za-z_$][\w$]*$/;
  function quote(s) {
    const q = s.includes("'") && !s.includes('"') ? '"' : "'";
    return q + s.replace(/[\\\n\r\t\b\f\v]/g, (c) => JSON.stringify(c).slice(1, -1)).replaceAll(q, '\\' + q) + q;
  }
  function key(k) {
    return typeof k === 'symbol' ? '[' + k.toString() + ']' : IDENT.test(k) ? k : quote(k);
  }
  function prefix(v, fallback) {
    const proto = Object.getPrototypeOf(v);
    if (proto === null) return '[Object: null prototype] ';
    const name = proto.constructor && proto.constructor.name;
    return name && name !== fallback ? name + ' ' : '';
  }
  function wrap(open, items, close, indent) {
    if (items.length === 0) return open.trimEnd() + close;
    const flat = open + ' ' + items.join(', ') + ' ' + close;
    if (flat.length <= 72 && !items.some((s) => s.includes('\n'))) return flat;
    const pad = '  '.repeat(indent + 1);
    return open + '\n' + pad + items.join(',\n' + pad) + '\n' + '  '.repeat(indent) + close;
  }
  function inspect(v, depth = 2, seen = [], indent = 0) {
    switch (typeof v) {
      case 'string':
        return indent === 0 && seen.length === 0 ? v : quote(v);
      case 'number':
        return Object.is(v, -0) ? '-0' : String(v);
      case 'bigint':
        return v + 'n';
      case 'symbol':
        return v.toString();
      case 'undefined':
        return 'undefined';
      case 'function': {
        const cls = Function.prototype.toString.call(v).startsWith('class');
        return (cls ? '[class ' : '[Function: ') + (v.name || '(anonymous)') + ']';
      }
    }
    if (v === null) return 'null';
    if (seen.includes(v)) return '[Circular *1]';
    if (v instanceof Error) return v.stack ? errorText(v) : '[' + String(v) + ']';
    if (v instanceof Date) return isNaN(v) ? 'Invalid Date' : v.toISOString();
    if (v instanceof RegExp) return String(v);
    if (v instanceof Number || v instanceof String || v instanceof Boolean) {
      return '[' + v.constructor.name + ': ' + inspect(v.valueOf(), depth, [v], indent) + ']';
    }
    if (v instanceof Promise) return 'Promise { <pending> }';
    if (v instanceof WeakMap || v instanceof WeakSet) return v.constructor.name + ' { <items unknown> }';
    const nested = seen.concat([v]);
    const sub = (x) => inspect(x, depth - 1, nested, indent + 1);
    const items = [];
    let open;
    if (Array.isArray(v) || ArrayBuffer.isView(v)) {
      const typed = !Array.isArray(v);
      if (depth < 0) return typed ? '[' + v.constructor.name + ']' : '[Array]';
      const shown = Math.min(v.length, 100);
      let holes = 0;
      for (let i = 0; i < shown; i++) {
        if (!typed && !(i in v)) {
          holes++;
          continue;
        }
        if (holes) items.push('<' + holes + ' empty item' + (holes > 1 ? 's' : '') + '>');
        holes = 0;
        items.push(sub(v[i]));
      }
      if (holes) items.push('<' + holes + ' empty item' + (holes > 1 ? 's' : '') + '>');
      if (v.length > shown) items.push('... ' + (v.length - shown) + ' more item' + (v.length - shown > 1 ? 's' : ''));
      if (!typed) for (const k of Object.keys(v)) if (!/^\d+$/.test(k)) items.push(key(k) + ': ' + sub(v[k]));
      const p = typed ? v.constructor.name + '(' + v.length + ') ' : prefix(v, 'Array');
      open = p + '[';
      return wrap(open, items, ']', indent);
    }
    if (v instanceof Map || v instanceof Set) {
      const name = v instanceof Map ? 'Map' : 'Set';
      if (depth < 0) return '[' + name + ']';
      for (const e of v) items.push(name === 'Map' ? sub(e[0]) + ' => ' + sub(e[1]) : sub(e));
      return wrap(name + '(' + v.size + ') {', items, '}', indent);
    }
    if (depth < 0) return '[' + (prefix(v, '').trim() || 'Object') + ']';
    for (const k of Object.keys(v)) items.push(key(k) + ': ' + sub(v[k]));
    for (const s of Object.getOwnPropertySymbols(v)) {
      if (Object.getOwnPropertyDescriptor(v, s).enumerable) items.push(key(s) + ': ' + sub(v[s]));
    }
    return wrap(prefix(v, 'Object') + '{', items, '}', indent);
  }

  // Node's util.format: %s %d %i %f %j %o %O %c %%, then the rest inspected.
  function format(...args) {
    let first = args[0];
    let rest = 1;
    const parts = [];
    if (typeof first === 'string' && args.length > 1 && first.includes('%')) {
      first = first.replace(/%([sdifjoOc%])/g, (m, c) => {
        if (c === '%') return '%';
        if (rest >= args.length) return m;
        const a = args[rest++];
        switch (c) {
          case 's':
            return typeof a === 'string' ? a : typeof a === 'bigint' ? a + 'n' : inspect(a, 1, [a]);
          case 'd':
            return typeof a === 'bigint' ? a + 'n' : typeof a === 'symbol' ? 'NaN' : String(Number(a));
          case 'i':
            return typeof a === 'bigint' ? a + 'n' : String(parseInt(a));
          case 'f':
            return String(parseFloat(a));
          case 'j':
            return JSON.stringify(a);
          case 'c':
            return '';
          default:
            return inspect(a, 4, [a]);
        }
      });
      parts.push(first);
    } else {
      rest = 0;
    }
    for (let i = rest; i < args.length; i++) parts.push(inspect(args[i]));
    return parts.join(' ');
  }

  // The hot path: console.log(x) with a string or a number.
  function line(args) {
    if (args.length === 1) {
      const a = args[0];
      if (typeof a === 'string') return a + '\n';
      if (typeof a === 'number') return (Object.is(a, -0) ? '-0' : String(a)) + '\n';
    }
    return format(...args) + '\n';
  }

  function errorText(e) {
    const head = e instanceof Error ? String(e) : 'Error: ' + String(e);
    const stack = typeof e.stack === 'string' ? e.stack.replace(/\n+$/, '') : '';
    return stack ? head + '\n' + stack : head;
  }

  // Bumped by whatever may stop a run of 'line' events (a listener added or
  // removed, an interface paused or closed).
  let changes = 0;

  // ---- console, print, readline ---------------------------------------------
  const out = (...args) => N.write(1, line(args));
  const err = (...args) => N.write(2, line(args));
  const counts = new Map();
  const timers = new Map();
  const console = {
    log: out,
    info: out,
    debug: out,
    error: err,
    warn: err,
    trace: (...args) => err('Trace: ' + format(...args) + '\n' + (new Error().stack || '').replace(/^.*\n/, '').trimEnd()),
    dir: (v) => out(inspect(v, 2, [v])),
    table: out,
    assert: (ok, ...args) => {
      if (!ok) err('Assertion failed' + (args.length ? ': ' + format(...args) : ''));
    },
    count: (label = 'default') => {
      counts.set(label, (counts.get(label) || 0) + 1);
      out(label + ': ' + counts.get(label));
    },
    countReset: (label = 'default') => counts.delete(label),
    time: (label = 'default') => timers.set(label, Date.now()),
    timeLog: (label = 'default') => err(label + ': ' + (Date.now() - (timers.get(label) || Date.now())) + 'ms'),
    timeEnd: (label = 'default') => {
      err(label + ': ' + (Date.now() - (timers.get(label) || Date.now())) + 'ms');
      timers.delete(label);
    },
    group: () => {},
    groupEnd: () => {},
  };
  hidden(G, 'console', console);
  hidden(G, 'print', (...args) => N.write(1, args.map(String).join(' ') + '\n'));
  hidden(G, 'printErr', (...args) => N.write(2, args.map(String).join(' ') + '\n'));
  hidden(G, 'write', (...args) => N.write(1, args.join('')));
  hidden(G, 'readline', N.readLine);
  hidden(G, 'read', () => N.readAll());
  hidden(G, 'quit', (code = 0) => N.exit(code));
  hidden(G, 'global', G);

  // ---- String.prototype.split: a fast path for whitespace regexes ------------
  // QuickJS's regex engine makes split(/\s+/) on megabytes slow; exactly these
  // patterns (with or without the g flag, no limit) split natively, with the
  // same result as the regex.
  const split = String.prototype.split;
  const reSplit = RegExp.prototype[Symbol.split];
  const reSource = Object.getOwnPropertyDescriptor(RegExp.prototype, 'source').get;
  const reFlags = Object.getOwnPropertyDescriptor(RegExp.prototype, 'flags').get;
  hidden(String.prototype, 'split', function split_(sep, limit) {
    if (
      typeof this === 'string' &&
      limit === undefined &&
      sep instanceof RegExp &&
      Object.getPrototypeOf(sep) === RegExp.prototype &&
      RegExp.prototype[Symbol.split] === reSplit &&
      !Object.prototype.hasOwnProperty.call(sep, Symbol.split)
    ) {
      const flags = reFlags.call(sep);
      if (flags === '' || flags === 'g') {
        const source = reSource.call(sep);
        if (source === '\\s+') return N.splitWs(this, false);
        if (source === ' +') return N.splitWs(this, true);
      }
    }
    return split.call(this, sep, limit);
  });
  Object.defineProperty(String.prototype.split, 'name', { value: 'split' });

  // ---- Array.prototype.sort: numeric comparators sort natively --------------
  // `(a, b) => a - b` (or `b - a`, or the same as a function expression) on an
  // array of numbers sorts in Rust, stably, with the comparator's exact
  // result; anything else (or an element that is not a number) takes
  // QuickJS's sort. What a comparator is gets decided once per function.
  const sort = Array.prototype.sort;
  const fnText = Function.prototype.toString;
  const kinds = new WeakMap();
  const ID = '([\\w$]+)';
  const BODY = '(?:\\(?' + ID + '-' + ID + '\\)?|\\{return' + ID + '-' + ID + ';?\\})';
  const ARROW = new RegExp('^\\(' + ID + ',' + ID + '\\)=>' + BODY + ';?$');
  const FUNC = new RegExp('^function[\\w$]*\\(' + ID + ',' + ID + '\\)\\{return' + ID + '-' + ID + ';?\\}$');
  function kind(cmp) {
    let k = kinds.get(cmp);
    if (k === undefined) {
      const text = fnText.call(cmp).replace(/\s+/g, '');
      const m = ARROW.exec(text) || FUNC.exec(text);
      const [x, y] = m ? [m[3] || m[5], m[4] || m[6]] : [];
      k = !m || m[1] === m[2] ? 0 : x === m[1] && y === m[2] ? 1 : x === m[2] && y === m[1] ? -1 : 0;
      kinds.set(cmp, k);
    }
    return k;
  }
  hidden(Array.prototype, 'sort', function sort_(cmp) {
    if (typeof cmp === 'function' && this.length > 8 && Array.isArray(this) && Object.getPrototypeOf(this) === Array.prototype) {
      const k = kind(cmp);
      if (k !== 0 && N.sortNumbers(this, k < 0)) return this;
    }
    return sort.call(this, cmp);
  });
  Object.defineProperty(Array.prototype.sort, 'name', { value: 'sort' });

  // ---- events, readline, process.stdin ---------------------------------------
  class EventEmitter {
    constructor() {
      hidden(this, '_events', Object.create(null));
    }
    on(event, fn) {
      changes++;
      (this._events[event] || (this._events[event] = [])).push(fn);
      return this;
    }
    addListener(event, fn) {
      return this.on(event, fn);
    }
    prependListener(event, fn) {
      changes++;
      (this._events[event] || (this._events[event] = [])).unshift(fn);
      return this;
    }
    once(event, fn) {
      const wrapper = (...args) => {
        this.off(event, wrapper);
        return fn.apply(this, args);
      };
      wrapper.listener = fn;
      return this.on(event, wrapper);
    }
    off(event, fn) {
      changes++;
      const list = this._events[event];
      const i = list ? list.findIndex((f) => f === fn || f.listener === fn) : -1;
      if (i >= 0) list.splice(i, 1);
      return this;
    }
    removeListener(event, fn) {
      return this.off(event, fn);
    }
    removeAllListeners(event) {
      changes++;
      if (event === undefined) this._events = Object.create(null);
      else delete this._events[event];
      return this;
    }
    emit(event, ...args) {
      const list = this._events[event];
      if (!list || list.length === 0) return false;
      for (const f of list.slice()) f.apply(this, args);
      return true;
    }
    listenerCount(event) {
      return (this._events[event] || []).length;
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
      this._paused = false;
      interfaces.push(this);
    }
    close() {
      changes++;
      if (!this.closed) {
        this.closed = true;
        this.emit('close');
      }
    }
    pause() {
      changes++;
      this._paused = true;
      return this;
    }
    resume() {
      changes++;
      this._paused = false;
      return this;
    }
    setPrompt() {}
    prompt() {}
    write() {}
    question(query, options, callback) {
      const cb = typeof options === 'function' ? options : callback;
      const text = this.closed ? undefined : N.readLine();
      Promise.resolve().then(() => cb(text === undefined ? '' : text));
    }
    _drive() {
      if (this.closed || this._paused) return false;
      const readLine = N.readLine;
      let text;
      while (!this.closed && !this._paused && (text = readLine()) !== undefined) {
        const list = this._events.line;
        if (list && list.length === 1) {
          // One listener: a tight loop until a listener, the interface's
          // state or the end of input changes something.
          const seen = changes, listener = list[0].bind(this);
          listener(text);
          while (changes === seen && (text = readLine()) !== undefined) listener(text);
        } else {
          this.emit('line', text);
        }
      }
      if (!this._paused) this.close();
      return true;
    }
    [Symbol.asyncIterator]() {
      const rl = this;
      return {
        next() {
          const text = rl.closed ? undefined : N.readLine();
          if (text === undefined) rl.close();
          return Promise.resolve({ value: text, done: text === undefined });
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
  const readline = { Interface, createInterface: () => new Interface() };
  readline.promises = {
    Interface,
    createInterface() {
      const rl = new Interface();
      rl.question = () => {
        const text = rl.closed ? undefined : N.readLine();
        return Promise.resolve(text === undefined ? '' : text);
      };
      return rl;
    },
  };

  class Stdin extends EventEmitter {
    constructor() {
      super();
      this.fd = 0;
      this.isTTY = false;
      this._encoding = null;
      this._ended = false;
    }
    setEncoding(encoding = 'utf8') {
      this._encoding = encoding;
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
      const data = this._encoding ? N.readAll() : bytes();
      return data.length ? data : null;
    }
    _drive() {
      if (this._ended || !['data', 'end', 'readable', 'close'].some((e) => this.listenerCount(e))) return false;
      if (this.listenerCount('readable')) {
        this.emit('readable');
        this.read();
      } else {
        const data = this.read();
        if (data !== null) this.emit('data', data);
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
          return Promise.resolve({ value: data === null ? undefined : data, done: data === null });
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    }
  }
  const stdin = new Stdin();

  // Stdin bytes with Buffer's toString(encoding).
  class Buffer extends Uint8Array {
    toString(encoding) {
      if (encoding === 'hex') return Array.from(this, (b) => b.toString(16).padStart(2, '0')).join('');
      return N.decode(this);
    }
    static from(x) {
      if (typeof x === 'string') return Buffer.from(new TextEncoderish().encode(x));
      const b = new Buffer(x.length);
      b.set(x);
      return b;
    }
    static isBuffer(x) {
      return x instanceof Buffer;
    }
  }
  class TextEncoderish {
    encode(s) {
      const utf8 = unescape(encodeURIComponent(s));
      const u = new Uint8Array(utf8.length);
      for (let i = 0; i < utf8.length; i++) u[i] = utf8.charCodeAt(i);
      return u;
    }
  }
  const bytes = () => {
    const raw = N.readBytes();
    return new Buffer(raw.buffer, raw.byteOffset, raw.length);
  };
  hidden(G, 'Buffer', Buffer);

  // ---- fs, process, require ----------------------------------------------------
  function noFile(path) {
    const e = new Error("ENOENT: no such file or directory, open '" + path + "' (a submission sees only stdin)");
    e.code = 'ENOENT';
    return e;
  }
  const isStdin = (path) => path === 0 || path === '/dev/stdin' || path === '/proc/self/fd/0';
  const fs = {
    readFileSync(path, options) {
      if (!isStdin(path)) throw noFile(path);
      const encoding = typeof options === 'string' ? options : options && options.encoding;
      return encoding ? N.readAll() : bytes();
    },
    writeSync(fd, data) {
      N.write(fd === 2 ? 2 : 1, String(data));
    },
    writeFileSync(path, data) {
      if (path === 1 || path === '/dev/stdout') N.write(1, String(data));
      else if (path === 2 || path === '/dev/stderr') N.write(2, String(data));
      else throw noFile(path);
    },
    existsSync: () => false,
  };
  fs.promises = { readFile: (path, options) => Promise.resolve().then(() => fs.readFileSync(path, options)) };

  const stream = (fd) => ({
    fd,
    isTTY: false,
    write(data, encoding, cb) {
      N.write(fd, typeof data === 'string' ? data : data instanceof Uint8Array ? N.decode(data) : String(data));
      const done = typeof encoding === 'function' ? encoding : cb;
      if (typeof done === 'function') Promise.resolve().then(done);
      return true;
    },
    end(data) {
      if (data !== undefined) this.write(data);
    },
    on() {
      return this;
    },
    once() {
      return this;
    },
  });
  const process = {
    argv: ['node', 'main.js', ...argv],
    env: {},
    exitCode: undefined,
    platform: 'linux',
    version: 'v20.0.0',
    versions: { node: '20.0.0' },
    stdin,
    stdout: stream(1),
    stderr: stream(2),
    exit(code) {
      N.exit(code === undefined ? process.exitCode : code);
    },
    nextTick: (fn, ...args) => queueMicrotask(() => fn(...args)),
    hrtime: Object.assign(
      (prev) => {
        const ns = BigInt(Math.round(performance.now() * 1e6));
        const t = [Number(ns / 1000000000n), Number(ns % 1000000000n)];
        return prev ? [t[0] - prev[0] - (t[1] < prev[1] ? 1 : 0), (t[1] - prev[1] + 1e9) % 1e9] : t;
      },
      { bigint: () => BigInt(Math.round(performance.now() * 1e6)) },
    ),
    memoryUsage: () => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0 }),
    cwd: () => '/',
    on() {
      return process;
    },
  };
  hidden(G, 'process', process);

  const util = { format, inspect, inherits: (c, p) => Object.setPrototypeOf(c.prototype, p.prototype) };
  const os = { EOL: '\n', platform: () => 'linux', cpus: () => [{}] };
  const modules = {
    fs,
    readline,
    events: Object.assign(EventEmitter, { EventEmitter }),
    util,
    os,
    process,
    buffer: { Buffer },
    assert: Object.assign(
      (ok, message) => {
        if (!ok) throw new Error(message || 'Assertion failed');
      },
      { strictEqual: (a, b, m) => { if (!Object.is(a, b)) throw new Error(m || inspect(a) + ' !== ' + inspect(b)); } },
    ),
  };
  const denied = ['child_process', 'net', 'http', 'https', 'dgram', 'cluster', 'worker_threads', 'vm', 'tls', 'dns'];
  hidden(G, 'require', (name) => {
    const bare = String(name).replace(/^node:/, '');
    if (bare === 'readline/promises') return readline.promises;
    if (bare === 'fs/promises') return fs.promises;
    if (Object.prototype.hasOwnProperty.call(modules, bare)) return modules[bare];
    const e = denied.includes(bare)
      ? new Error("require('" + bare + "'): not available in the judge (no processes, no network)")
      : new Error("Cannot find module '" + name + "' (the judge provides fs, readline, events, util, os)");
    e.code = 'MODULE_NOT_FOUND';
    throw e;
  });
  const module = { exports: {} };
  hidden(G, 'module', module);
  hidden(G, 'exports', module.exports);

  // ---- timers: virtual time, run in order after the script ------------------
  const pending = [];
  let timerSeq = 0;
  let now = 0;
  function addTimer(fn, ms, args, repeat) {
    if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be of type function');
    const delay = Math.max(0, Number(ms) || 0);
    const t = { id: ++timerSeq, due: now + delay, fn, args, repeat: repeat ? Math.max(1, delay) : 0 };
    pending.push(t);
    return t.id;
  }
  const clear = (id) => {
    const i = pending.findIndex((t) => t.id === id);
    if (i >= 0) pending.splice(i, 1);
  };
  hidden(G, 'setTimeout', (fn, ms, ...args) => addTimer(fn, ms, args, false));
  hidden(G, 'setInterval', (fn, ms, ...args) => addTimer(fn, ms, args, true));
  hidden(G, 'setImmediate', (fn, ...args) => addTimer(fn, 0, args, false));
  hidden(G, 'clearTimeout', clear);
  hidden(G, 'clearInterval', clear);
  hidden(G, 'clearImmediate', clear);
  if (typeof G.performance === 'undefined') {
    const start = Date.now();
    hidden(G, 'performance', { now: () => Date.now() - start });
  }

  function drive() {
    if (pending.length) {
      let next = 0;
      for (let i = 1; i < pending.length; i++) {
        const a = pending[i], b = pending[next];
        if (a.due < b.due || (a.due === b.due && a.id < b.id)) next = i;
      }
      const t = pending[next];
      now = Math.max(now, t.due);
      if (t.repeat) t.due = now + t.repeat;
      else pending.splice(next, 1);
      t.fn(...t.args);
      return true;
    }
    for (const rl of interfaces) if (rl._drive()) return true;
    if (stdin._drive()) return true;
    return false;
  }

  function describe(e) {
    if (e instanceof Error) return errorText(e);
    return inspect(e, 2, [e]);
  }

  return { drive, describe, exitCode: () => process.exitCode };
})
