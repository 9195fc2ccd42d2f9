// The runtime's door to the provider table, which lives in lib/providers so config, setup and doctor read the same rows.
export { PROVIDERS, isProviderName, type ProviderName, type ProviderSpec } from '../../lib/providers.js';
