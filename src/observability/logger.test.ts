import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TroveError } from '../errors.js';
import { captureLogs, createLogger, isLogLevel } from './logger.js';
import { redactString } from './redact.js';

describe('createLogger (json)', () => {
  it('writes one JSON object per line with time, level, msg first, then fields', () => {
    const { logger, lines } = captureLogs('debug', { role: 'serve' });
    logger.info('hello', { a: 1, nested: { b: 'two' } });
    expect(lines).toHaveLength(1);
    const event = JSON.parse(lines[0] as string);
    expect(Object.keys(event).slice(0, 3)).toEqual(['time', 'level', 'msg']);
    expect(new Date(event.time).toISOString()).toBe(event.time);
    expect(event).toMatchObject({ level: 'info', msg: 'hello', role: 'serve', a: 1 });
    expect(event.nested).toEqual({ b: 'two' });
  });

  it('drops events below its level and reports what it writes', () => {
    const { logger, events } = captureLogs('warn');
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(events().map((e) => e.level)).toEqual(['warn', 'error']);
    expect(logger.enabled('info')).toBe(false);
    expect(logger.enabled('error')).toBe(true);
  });

  it('child loggers add their fields and can be nested; fields cannot replace time/level/msg', () => {
    const { logger, events } = captureLogs();
    const child = logger.child({ requestId: 'r1' }).child({ tenant: 't' });
    child.info('x', { level: 'error', msg: 'forged', extra: true });
    logger.info('parent');
    const [first, second] = events();
    expect(first).toMatchObject({
      level: 'info',
      msg: 'x',
      requestId: 'r1',
      tenant: 't',
      extra: true,
    });
    expect(second).not.toHaveProperty('requestId');
  });

  it('redacts secret-named keys at any depth, URL passwords and signatures', () => {
    const { logger, lines } = captureLogs();
    logger.info('connecting to postgres://trove:hunter2@db:5432/trove', {
      password: 'hunter2',
      headers: { Authorization: 'Bearer abc', 'x-amz-security-token': 'tok', accept: 'json' },
      s3: { secretAccessKey: 'AKIAsecret', region: 'eu' },
      url: 'https://b.s3.amazonaws.com/k?X-Amz-Credential=AK%2F1&X-Amz-Signature=deadbeef&x=1',
      list: [{ apiKey: 'k' }],
    });
    const line = lines[0] as string;
    for (const secret of [
      'hunter2',
      'Bearer abc',
      'tok"',
      'AKIAsecret',
      'deadbeef',
      'AK%2F1',
      '"k"',
    ]) {
      expect(line).not.toContain(secret);
    }
    const event = JSON.parse(line);
    expect(event.msg).toBe('connecting to postgres://trove:[redacted]@db:5432/trove');
    expect(event.headers).toEqual({
      Authorization: '[redacted]',
      'x-amz-security-token': '[redacted]',
      accept: 'json',
    });
    expect(event.s3.region).toBe('eu');
    expect(event.url).toContain('&x=1');
  });

  it('serializes errors: code of a TroveError, cause, stack only on error events', () => {
    const { logger, events } = captureLogs('info');
    const err = new TroveError(
      'unavailable',
      'db down at postgres://u:pw@h/db',
      { host: 'h' },
      {
        cause: Object.assign(new Error('ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      },
    );
    logger.warn('retrying', { err });
    logger.error('gave up', { err });
    const [warned, failed] = events() as { err: Record<string, unknown> }[];
    expect(warned?.err).toEqual({
      name: 'TroveError',
      message: 'db down at postgres://u:[redacted]@h/db',
      code: 'unavailable',
      details: { host: 'h' },
      cause: { name: 'Error', message: 'ECONNREFUSED', code: 'ECONNREFUSED' },
    });
    expect(String(failed?.err.stack)).toContain('logger.test.ts');
  });

  it('survives cycles, buffers, bigints and a stream that throws', () => {
    const { logger, events } = captureLogs();
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    logger.info('odd', { cyclic, buf: Buffer.alloc(3), n: 10n });
    expect(events()[0]).toMatchObject({
      cyclic: { name: 'loop', self: '[circular]' },
      buf: '[3 bytes]',
      n: '10',
    });
    const broken = new Writable({
      write: () => {
        throw new Error('EPIPE');
      },
    });
    expect(() => createLogger({ stream: broken }).error('x')).not.toThrow();
  });
});

describe('createLogger (pretty)', () => {
  it('writes a readable line with key=value pairs and no colours off a TTY', () => {
    const out: string[] = [];
    const stream = new Writable({
      write(chunk, _e, done) {
        out.push(String(chunk));
        done();
      },
    });
    createLogger({ format: 'pretty', stream }).info('request', {
      status: 200,
      route: '/v1/x',
      token: 's',
    });
    expect(out[0]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}request status=200 route=\/v1\/x token=\[redacted\]\n$/,
    );
  });
});

describe('helpers', () => {
  it('isLogLevel accepts exactly the four levels', () => {
    expect(['debug', 'info', 'warn', 'error'].every(isLogLevel)).toBe(true);
    expect(isLogLevel('trace')).toBe(false);
    expect(isLogLevel('constructor')).toBe(false);
  });

  it('redactString leaves ordinary text and URLs without passwords alone', () => {
    const plain = 'GET https://example.com/a?b=c user@host failed: 3 retries';
    expect(redactString(plain)).toBe(plain);
    expect(redactString('s3://k:v@bucket/x?X-Trove-Signature=abc')).toBe(
      's3://k:[redacted]@bucket/x?X-Trove-Signature=[redacted]',
    );
  });
});
