// Shared helpers for the interop peer scripts: argument parsing, the stderr
// logger, the deterministic payload and the crypto callbacks @matrixai/quic wants.
import { webcrypto } from 'node:crypto';
import Logger, { LogLevel, StreamHandler } from '@matrixai/logger';

/**
 * Parses `--name value` and bare `--flag` arguments. Unknown names are an error
 * so a typo in the C# harness fails loudly instead of being ignored.
 */
export function parseArgs(argv, spec) {
  const values = {};
  for (const [name, def] of Object.entries(spec)) {
    if (def.default !== undefined) values[name] = def.default;
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) fail(`unexpected argument '${arg}'`);
    const name = arg.slice(2);
    const def = spec[name];
    if (def === undefined) fail(`unknown option '${arg}'`);
    if (def.flag) {
      values[name] = true;
      continue;
    }
    if (i + 1 >= argv.length) fail(`option '${arg}' needs a value`);
    values[name] = argv[++i];
  }
  for (const [name, def] of Object.entries(spec)) {
    if (def.required && values[name] === undefined) fail(`missing required option '--${name}'`);
  }
  return values;
}

export function parsePort(text, name) {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--${name} must be a port number, got '${text}'`);
  return port;
}

/** Prints the reason on stderr and exits non-zero; the harness shows stderr on failure. */
export function fail(reason, code = 1) {
  process.stderr.write(`error: ${reason}\n`);
  process.exit(code);
}

/** The one line on stdout the harness waits for; everything else goes to stderr. */
export function emitJson(value) {
  process.stdout.write(JSON.stringify(value) + '\n');
}

/** Library logging goes to stderr so stdout stays a clean JSON-lines channel. */
export function createLogger(name, verbose) {
  return new Logger(name, verbose ? LogLevel.DEBUG : LogLevel.WARN, [new StreamHandler()]);
}

export const clientCrypto = {
  ops: {
    async randomBytes(data) {
      webcrypto.getRandomValues(new Uint8Array(data));
    },
  },
};

/** Retry tokens are HMAC-SHA256 signed by the server; the key lives only for this process. */
export async function createServerCrypto() {
  const key = webcrypto.getRandomValues(new Uint8Array(32)).buffer;
  const hmacKey = await webcrypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
  return {
    key,
    ops: {
      async sign(_key, data) {
        return webcrypto.subtle.sign('HMAC', hmacKey, data);
      },
      async verify(_key, data, sig) {
        return webcrypto.subtle.verify('HMAC', hmacKey, sig, data);
      },
    },
  };
}

/**
 * Deterministic payload: xorshift32 seeded with `seed` (0 is remapped, xorshift
 * cannot leave 0), four little-endian bytes per step. The C# side can reproduce
 * the same bytes when it needs to check an echo of its own.
 */
export function payload(length, seed) {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < length; i += 4) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    for (let b = 0; b < 4 && i + b < length; b++) bytes[i + b] = (state >>> (8 * b)) & 0xff;
  }
  return bytes;
}
