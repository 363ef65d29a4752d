import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';

describe('access settings', () => {
  it('are public, ten bad keys a minute and no trusted proxy by default', () => {
    expect(loadConfig({ env: {} })).toMatchObject({ private: false, badKeyLimit: 10, trustProxy: false });
  });

  it('come from the environment', () => {
    const config = loadConfig({ env: { PAWKET_PRIVATE: 'true', PAWKET_BAD_KEY_LIMIT: '0', PAWKET_TRUST_PROXY: '10.0.0.1, 10.0.0.0/8' } });
    expect(config).toMatchObject({ private: true, badKeyLimit: 0, trustProxy: ['10.0.0.1', '10.0.0.0/8'] });
    expect(loadConfig({ env: { PAWKET_TRUST_PROXY: 'yes' } }).trustProxy).toBe(true);
  });

  it('name a bad value', () => {
    expect(() => loadConfig({ env: { PAWKET_PRIVATE: 'maybe' } })).toThrow(/"private" \(from environment PAWKET_PRIVATE\)/);
    expect(() => loadConfig({ env: { PAWKET_BAD_KEY_LIMIT: '-1' } })).toThrow(/badKeyLimit/);
  });
});
