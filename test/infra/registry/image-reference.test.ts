import { InvalidInputError } from '../../../src/domain/errors';
import { formatImageRef, manifestReference, parseImageRef } from '../../../src/infra/registry/image-reference';

const digest = `sha256:${'ab'.repeat(32)}`;

describe('parseImageRef', () => {
  it.each([
    ['127.0.0.1:5100/shop/api:2.4.0', { registry: '127.0.0.1:5100', repository: 'shop/api', tag: '2.4.0' }],
    [`127.0.0.1:5100/shop/api@${digest}`, { registry: '127.0.0.1:5100', repository: 'shop/api', digest }],
    [
      `127.0.0.1:5100/shop/api:2.4.0@${digest}`,
      { registry: '127.0.0.1:5100', repository: 'shop/api', tag: '2.4.0', digest },
    ],
    ['localhost:5000/api', { registry: 'localhost:5000', repository: 'api' }],
    ['localhost/api:v1', { registry: 'localhost', repository: 'api', tag: 'v1' }],
    [
      'registry.example.com/team/shop/api:1.0_rc-2',
      { registry: 'registry.example.com', repository: 'team/shop/api', tag: '1.0_rc-2' },
    ],
    ['[::1]:5000/shop/api:1', { registry: '[::1]:5000', repository: 'shop/api', tag: '1' }],
    ['nginx', { registry: 'docker.io', repository: 'library/nginx' }],
    ['nginx:1.27', { registry: 'docker.io', repository: 'library/nginx', tag: '1.27' }],
    ['bitnami/redis:7', { registry: 'docker.io', repository: 'bitnami/redis', tag: '7' }],
    ['a.b/c__d/e-f.g:X', { registry: 'a.b', repository: 'c__d/e-f.g', tag: 'X' }],
  ])('reads %s', (text, expected) => {
    expect(parseImageRef(text)).toEqual(expected);
  });

  it.each([
    ['', 'is empty'],
    [' 127.0.0.1:5100/shop/api:1', 'has surrounding whitespace'],
    ['127.0.0.1:5100/Shop/api:1', 'has an invalid repository component "Shop"'],
    ['127.0.0.1:5100/shop//api:1', 'has an empty path component'],
    ['127.0.0.1:5100/shop/api:', 'has an invalid tag ""'],
    ['127.0.0.1:5100/shop/api:-x', 'has an invalid tag "-x"'],
    [`127.0.0.1:5100/shop/api:${'x'.repeat(129)}`, 'has an invalid tag'],
    ['127.0.0.1:5100/shop/api@sha256:abc', 'has an invalid digest "sha256:abc"'],
    [`127.0.0.1:5100/shop/api@md5:${'a'.repeat(32)}`, 'has an invalid digest'],
    ['bad_host:5000/shop/api', 'has an invalid registry host "bad_host:5000"'],
    ['127.0.0.1:5100/', 'has an empty path component'],
    [`127.0.0.1:5100/${'a'.repeat(250)}`, 'has a name longer than 255 characters'],
  ])('refuses %j: %s', (text, problem) => {
    let error: unknown;
    try {
      parseImageRef(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain(`image reference ${JSON.stringify(text)} ${problem}`);
    expect((error as Error).message).toContain(
      'expected registry/repository[:tag][@digest], e.g. 127.0.0.1:5100/shop/api:2.4.0',
    );
  });
});

describe('formatImageRef', () => {
  it.each([
    [{ registry: '127.0.0.1:5100', repository: 'shop/api', tag: '2.4.0' }, '127.0.0.1:5100/shop/api:2.4.0'],
    [{ registry: '127.0.0.1:5100', repository: 'shop/api', digest }, `127.0.0.1:5100/shop/api@${digest}`],
    [{ registry: 'r.example', repository: 'a', tag: 't', digest }, `r.example/a:t@${digest}`],
    [{ registry: 'r.example', repository: 'a' }, 'r.example/a'],
  ])('writes %j as %s', (ref, text) => {
    expect(formatImageRef(ref)).toBe(text);
    expect(parseImageRef(text)).toEqual(ref);
  });
});

describe('manifestReference', () => {
  it('prefers the digest, then the tag, then latest', () => {
    expect(manifestReference({ registry: 'r', repository: 'a', tag: 't', digest })).toBe(digest);
    expect(manifestReference({ registry: 'r', repository: 'a', tag: 't' })).toBe('t');
    expect(manifestReference({ registry: 'r', repository: 'a' })).toBe('latest');
  });
});
