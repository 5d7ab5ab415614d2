import { parseAuthChallenges } from '../../../src/infra/registry/auth-challenge';

describe('parseAuthChallenges', () => {
  it.each([
    [null, []],
    ['', []],
    ['Basic realm="meridian-test"', [{ scheme: 'basic', params: { realm: 'meridian-test' } }]],
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.docker.io/token',
            service: 'registry.docker.io',
            scope: 'repository:library/nginx:pull',
          },
        },
      ],
    ],
    [
      // Several scopes in one quoted value, unquoted values, odd spacing and case.
      'BEARER Realm=https://r.example/token , Service = r.example, scope="repository:a:pull repository:b:pull,push"',
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://r.example/token',
            service: 'r.example',
            scope: 'repository:a:pull repository:b:pull,push',
          },
        },
      ],
    ],
    [
      'Basic realm="x", Bearer realm="https://t.example/token",error="insufficient_scope"',
      [
        { scheme: 'basic', params: { realm: 'x' } },
        { scheme: 'bearer', params: { realm: 'https://t.example/token', error: 'insufficient_scope' } },
      ],
    ],
    [
      'Bearer realm="with \\"quotes\\" and, commas"',
      [{ scheme: 'bearer', params: { realm: 'with "quotes" and, commas' } }],
    ],
  ])('reads %j', (header, expected) => {
    expect(parseAuthChallenges(header)).toEqual(expected);
  });
});
