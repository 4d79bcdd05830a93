// Launches @20minutes/s3rver (a SigV4-verifying S3 server) on 127.0.0.1 for the integration
// tests and prints one JSON line {"port": N, "scheme": "http"|"https"} once it listens.
// Run it as `node --openssl-legacy-provider s3_server.js --dir DIR [--port N] [--bucket NAME]...
// [--key KEY.pem --cert CERT.pem] [--access-key ID --secret-key SECRET]...`; without the legacy
// provider every truncated listing fails with HTTP 500. Stops on SIGTERM/SIGINT.
'use strict';

const fs = require('fs');
const path = require('path');

const modules = path.join(__dirname, '..', 'node_modules');
const S3rver = require(path.join(modules, '@20minutes', 's3rver'));
const AWSAccount = require(path.join(modules, '@20minutes', 's3rver', 'lib', 'models', 'account'));

function parseArgs(argv) {
  const opts = { port: 0, buckets: [], keys: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--dir') opts.dir = next();
    else if (a === '--port') opts.port = Number(next());
    else if (a === '--bucket') opts.buckets.push(next());
    else if (a === '--key') opts.key = next();
    else if (a === '--cert') opts.cert = next();
    else if (a === '--access-key') opts.keys.push([next()]);
    else if (a === '--secret-key') {
      if (!opts.keys.length) throw new Error('--secret-key must follow --access-key');
      opts.keys[opts.keys.length - 1].push(next());
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!opts.dir) throw new Error('--dir is required');
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  // Extra key pairs (for example the credentials a test STS hands out) join the built-in
  // S3RVER/S3RVER account.
  for (const [id, secret] of opts.keys) {
    if (!secret) throw new Error(`--access-key ${id} has no --secret-key`);
    AWSAccount.DUMMY_ACCOUNT.createKeyPair(id, secret);
  }
  const tls = opts.key && opts.cert;
  const server = new S3rver({
    address: '127.0.0.1',
    port: opts.port,
    directory: opts.dir,
    silent: true,
    configureBuckets: opts.buckets.map((name) => ({ name })),
    ...(tls ? { key: fs.readFileSync(opts.key), cert: fs.readFileSync(opts.cert) } : {}),
  });
  const address = await server.run();
  process.stdout.write(JSON.stringify({ port: address.port, scheme: tls ? 'https' : 'http' }) + '\n');
  const stop = () => server.close().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  process.stderr.write(`s3_server.js: ${err.stack || err}\n`);
  process.exit(1);
});
