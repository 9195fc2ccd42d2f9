// The provider table: every OpenAI-compatible provider is one row; quirks are fields, not branches. In lib/ so config, setup, doctor and the runtime may all import it.

export interface ProviderSpec {
  /** OpenAI-compatible base URL, ending in /v1 (or the provider's equivalent). */
  baseUrl: string;
  /** Environment variables that may hold the key, in order of preference (TETHER_API_KEY comes first always). */
  keyEnv: readonly string[];
  /** Whether requests without a key are pointless (hosted providers) or normal (local servers). */
  requiresKey: boolean;
  /** Model used when TETHER_MODEL is unset; empty means the user must name one. */
  defaultModel: string;
  /** Sends stream_options.include_usage so the last chunk carries token usage. */
  streamUsage: boolean;
  /** Extra request headers some providers ask for. */
  headers?: Readonly<Record<string, string>>;
}

export const PROVIDERS = {
  openai: { baseUrl: 'https://api.openai.com/v1', keyEnv: ['OPENAI_API_KEY'], requiresKey: true, defaultModel: 'gpt-4.1-mini', streamUsage: true },
  deepseek: { baseUrl: 'https://api.deepseek.com/v1', keyEnv: ['DEEPSEEK_API_KEY'], requiresKey: true, defaultModel: 'deepseek-chat', streamUsage: true },
  openrouter: { baseUrl: 'https://openrouter.ai/api/v1', keyEnv: ['OPENROUTER_API_KEY'], requiresKey: true, defaultModel: 'openai/gpt-4.1-mini', streamUsage: true, headers: { 'X-Title': 'Tether' } },
  moonshot: { baseUrl: 'https://api.moonshot.ai/v1', keyEnv: ['MOONSHOT_API_KEY'], requiresKey: true, defaultModel: 'kimi-k2-0905-preview', streamUsage: false },
  ollama: { baseUrl: 'http://127.0.0.1:11434/v1', keyEnv: ['OLLAMA_API_KEY'], requiresKey: false, defaultModel: 'qwen2.5:7b', streamUsage: false },
  vllm: { baseUrl: 'http://127.0.0.1:8000/v1', keyEnv: ['VLLM_API_KEY'], requiresKey: false, defaultModel: '', streamUsage: true },
  sglang: { baseUrl: 'http://127.0.0.1:30000/v1', keyEnv: ['SGLANG_API_KEY'], requiresKey: false, defaultModel: '', streamUsage: true },
  lmstudio: { baseUrl: 'http://127.0.0.1:1234/v1', keyEnv: ['LMSTUDIO_API_KEY'], requiresKey: false, defaultModel: '', streamUsage: false },
  llamacpp: { baseUrl: 'http://127.0.0.1:8080/v1', keyEnv: ['LLAMACPP_API_KEY'], requiresKey: false, defaultModel: 'default', streamUsage: false },
  groq: { baseUrl: 'https://api.groq.com/openai/v1', keyEnv: ['GROQ_API_KEY'], requiresKey: true, defaultModel: 'llama-3.3-70b-versatile', streamUsage: true },
  together: { baseUrl: 'https://api.together.xyz/v1', keyEnv: ['TOGETHER_API_KEY'], requiresKey: true, defaultModel: 'meta-llama/Llama-3.3-70B-Instruct-Turbo', streamUsage: true },
  fireworks: { baseUrl: 'https://api.fireworks.ai/inference/v1', keyEnv: ['FIREWORKS_API_KEY'], requiresKey: true, defaultModel: 'accounts/fireworks/models/llama-v3p3-70b-instruct', streamUsage: true },
  novita: { baseUrl: 'https://api.novita.ai/v3/openai', keyEnv: ['NOVITA_API_KEY'], requiresKey: true, defaultModel: 'meta-llama/llama-3.3-70b-instruct', streamUsage: true },
  'nvidia-nim': { baseUrl: 'https://integrate.api.nvidia.com/v1', keyEnv: ['NVIDIA_API_KEY'], requiresKey: true, defaultModel: 'meta/llama-3.3-70b-instruct', streamUsage: true },
  mistral: { baseUrl: 'https://api.mistral.ai/v1', keyEnv: ['MISTRAL_API_KEY'], requiresKey: true, defaultModel: 'mistral-small-latest', streamUsage: false },
  xai: { baseUrl: 'https://api.x.ai/v1', keyEnv: ['XAI_API_KEY'], requiresKey: true, defaultModel: 'grok-3-mini', streamUsage: true },
  siliconflow: { baseUrl: 'https://api.siliconflow.cn/v1', keyEnv: ['SILICONFLOW_API_KEY'], requiresKey: true, defaultModel: 'deepseek-ai/DeepSeek-V3', streamUsage: true },
  zhipu: { baseUrl: 'https://open.bigmodel.cn/api/paas/v4', keyEnv: ['ZHIPU_API_KEY'], requiresKey: true, defaultModel: 'glm-4-flash', streamUsage: false },
  dashscope: { baseUrl: 'https://dashscope.aliyuncs.com/compatible-mode/v1', keyEnv: ['DASHSCOPE_API_KEY'], requiresKey: true, defaultModel: 'qwen-plus', streamUsage: true },
  gemini: { baseUrl: 'https://generativelanguage.googleapis.com/v1beta/openai', keyEnv: ['GEMINI_API_KEY'], requiresKey: true, defaultModel: 'gemini-2.5-flash', streamUsage: true },
} as const satisfies Record<string, ProviderSpec>;

export type ProviderName = keyof typeof PROVIDERS;

export function isProviderName(name: string): name is ProviderName {
  return Object.hasOwn(PROVIDERS, name);
}
