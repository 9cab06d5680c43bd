// MAX_ATTACHMENT_BYTES: an attachment must fit, base64-encoded, in one request (MAX_REQUEST_BYTES).
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_LIMITS, loadConfig } from '../../src/config.js';

const SECRET = 'a-test-secret-of-at-least-32-characters';
const load = (env: NodeJS.ProcessEnv) => loadConfig({ JWT_SECRET: SECRET, DATA_DIR: '/nonexistent', ...env });

describe('MAX_ATTACHMENT_BYTES', () => {
  it('defaults to 512 KiB, which fits in the default 1 MiB request', () => {
    const c = load({});
    expect(c.limits.maxAttachmentBytes).toBe(524_288);
    expect(DEFAULT_LIMITS.maxAttachmentBytes).toBe(524_288);
    expect(c.limits.maxRequestBytes).toBe(1_048_576);
  });

  it('takes the largest value whose base64 plus 64 KiB fits in MAX_REQUEST_BYTES, and refuses one byte more', () => {
    // (1 MiB − 64 KiB) = 983,040 characters of base64 = 737,280 bytes.
    expect(load({ MAX_ATTACHMENT_BYTES: '737280' }).limits.maxAttachmentBytes).toBe(737_280);
    let error: unknown;
    try {
      load({ MAX_ATTACHMENT_BYTES: '737281' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('MAX_ATTACHMENT_BYTES');
    expect((error as Error).message).toContain('MAX_REQUEST_BYTES');
    expect((error as Error).message).toContain('at most 737280');
  });

  it('a larger attachment needs a larger request', () => {
    const c = load({
      MAX_ATTACHMENT_BYTES: String(2 * 1024 * 1024),
      MAX_REQUEST_BYTES: String(3 * 1024 * 1024),
    });
    expect(c.limits.maxAttachmentBytes).toBe(2 * 1024 * 1024);
    expect(() => load({ MAX_ATTACHMENT_BYTES: '0' })).toThrow(ConfigError);
    expect(() => load({ MAX_ATTACHMENT_BYTES: 'lots' })).toThrow(ConfigError);
  });
});
