#!/usr/bin/env node
// Echo client on an independent QUIC stack (quiche + BoringSSL) for interop tests.
// Opens one bidi stream, sends --bytes pseudo-random bytes (seeded), finishes
// writing, reads the echo back and checks it is byte-identical. Prints
// {"ok": true, "bytes": N, "ms": T} on success, or the reason on stderr and a
// non-zero exit code on failure.
import { readFile } from 'node:fs/promises';
import { QUICClient } from '@matrixai/quic';
import { clientCrypto, createLogger, emitJson, fail, parseArgs, parsePort, payload } from './common.mjs';

const args = parseArgs(process.argv.slice(2), {
  host: { default: '127.0.0.1' },
  port: { required: true },
  'server-name': { default: 'localhost' },
  ca: { required: true },
  alpn: { default: 'connet-interop' },
  bytes: { default: '1048576' },
  seed: { default: '1' },
  groups: {},
  cert: {},
  key: {},
  'timeout-ms': { default: '60000' },
  keylog: {},
  verbose: { flag: true },
});

// quiche 0.18 as wrapped by @matrixai/quic 2.0.9 builds its BoringSSL context
// with only verify/CA/key/cert/sigalgs: there is no way to choose the key
// exchange groups (it offers x25519, P-256, P-384 and sends an x25519 share).
// Refuse instead of silently running a different test than the one asked for.
if (args.groups !== undefined) {
  fail('--groups is not supported: @matrixai/quic 2.0.9 cannot restrict TLS key exchange groups ' +
    '(client offers x25519,secp256r1,secp384r1 with an x25519 key share)', 2);
}
if ((args.cert === undefined) !== (args.key === undefined)) fail('--cert and --key go together');

const byteCount = Number(args.bytes);
if (!Number.isSafeInteger(byteCount) || byteCount < 0) fail(`--bytes must be a non-negative integer, got '${args.bytes}'`);
const timeoutMs = Number(args['timeout-ms']);
if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) fail(`--timeout-ms must be a positive integer`);

const watchdog = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
const logger = createLogger('echo-client', args.verbose);
const data = payload(byteCount, Number(args.seed) >>> 0);
const started = performance.now();

let client;
try {
  client = await QUICClient.createQUICClient({
    host: args.host,
    port: parsePort(args.port, 'port'),
    serverName: args['server-name'],
    crypto: clientCrypto,
    config: {
      verifyPeer: true,
      ca: await readFile(args.ca, 'utf8'),
      cert: args.cert === undefined ? undefined : await readFile(args.cert, 'utf8'),
      key: args.key === undefined ? undefined : await readFile(args.key, 'utf8'),
      applicationProtos: args.alpn.split(','),
      logKeys: args.keylog,
    },
    logger,
  });
} catch (e) {
  fail(`handshake failed: ${describe(e)}`);
}

try {
  const stream = client.connection.newStream('bidi');
  const writing = (async () => {
    const writer = stream.writable.getWriter();
    const chunk = 64 * 1024;
    for (let offset = 0; offset < data.length; offset += chunk) {
      await writer.write(data.subarray(offset, Math.min(offset + chunk, data.length)));
    }
    await writer.close();
  })();

  const received = new Uint8Array(data.length);
  let length = 0;
  for await (const part of stream.readable) {
    if (length + part.length > received.length) {
      fail(`echo longer than sent: more than ${received.length} bytes`);
    }
    received.set(part, length);
    length += part.length;
  }
  await writing;

  if (length !== data.length) fail(`echo truncated: sent ${data.length} bytes, got ${length}`);
  for (let i = 0; i < length; i++) {
    if (received[i] !== data[i]) fail(`echo differs at byte ${i}: sent ${data[i]}, got ${received[i]}`);
  }
  const ms = Math.round(performance.now() - started);
  await client.destroy({ force: false });
  clearTimeout(watchdog);
  emitJson({ ok: true, bytes: length, ms });
  process.exit(0);
} catch (e) {
  fail(`echo failed: ${describe(e)}`);
}

function describe(e) {
  const cause = e?.cause ? ` (cause: ${describe(e.cause)})` : '';
  return `${e?.name ?? 'Error'}: ${e?.message ?? e}${cause}`;
}
