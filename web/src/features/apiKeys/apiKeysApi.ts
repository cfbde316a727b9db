import { api } from '../../app/api';
import type { Page, RequestBody, Schemas } from '../../app/apiTypes';
import type { KeyLimits } from '../limits/limitRules';

/** `limits`: the key's own rate limits, on top of its owner's (null = none of its own). */
export type ApiKey = Schemas['ApiKey'];
export type ApiKeyCreate = RequestBody<'postApiKeys'>;
/** The answer to a create: the only time the whole key is shown. */
export type CreatedApiKey = Schemas['CreatedApiKey'];

const apiKeysTagged = api.enhanceEndpoints({ addTagTypes: ['ApiKeys'] });

export const apiKeysApi = apiKeysTagged.injectEndpoints({
  endpoints: (build) => ({
    listApiKeys: build.query<ApiKey[], void>({
      query: () => '/api-keys',
      transformResponse: (body: Page<ApiKey>) => body.items,
      providesTags: ['ApiKeys'],
    }),
    createApiKey: build.mutation<CreatedApiKey, ApiKeyCreate>({
      query: (body) => ({ url: '/api-keys', method: 'POST', body }),
      invalidatesTags: ['ApiKeys'],
    }),
    /** Replaces both: a field left out is none of its own. */
    setApiKeyLimits: build.mutation<ApiKey, { id: string; limits: KeyLimits }>({
      query: ({ id, limits }) => ({ url: `/api-keys/${encodeURIComponent(id)}`, method: 'PATCH', body: { limits } }),
      invalidatesTags: ['ApiKeys'],
    }),
    revokeApiKey: build.mutation<void, string>({
      query: (id) => ({ url: `/api-keys/${encodeURIComponent(id)}`, method: 'DELETE' }),
      invalidatesTags: ['ApiKeys'],
    }),
  }),
});

export const { useListApiKeysQuery, useCreateApiKeyMutation, useSetApiKeyLimitsMutation, useRevokeApiKeyMutation } = apiKeysApi;

/** Ready-to-paste examples for a new key; baseUrl is the hub's origin. */
export function keyExamples(baseUrl: string, key: string, model: string) {
  const v1 = `${baseUrl}/v1`;
  return {
    curl: [
      `curl ${v1}/chat/completions \\`,
      `  -H "Authorization: Bearer ${key}" \\`,
      `  -H "Content-Type: application/json" \\`,
      `  -d '{"model": "${model}", "messages": [{"role": "user", "content": "Hello"}]}'`,
    ].join('\n'),
    python: [
      'from openai import OpenAI',
      '',
      `client = OpenAI(api_key="${key}", base_url="${v1}")`,
      'reply = client.chat.completions.create(',
      `    model="${model}",`,
      '    messages=[{"role": "user", "content": "Hello"}],',
      ')',
      'print(reply.choices[0].message.content)',
    ].join('\n'),
    node: [
      "import OpenAI from 'openai';",
      '',
      `const client = new OpenAI({ apiKey: '${key}', baseURL: '${v1}' });`,
      'const reply = await client.chat.completions.create({',
      `  model: '${model}',`,
      "  messages: [{ role: 'user', content: 'Hello' }],",
      '});',
      'console.log(reply.choices[0].message.content);',
    ].join('\n'),
  };
}
