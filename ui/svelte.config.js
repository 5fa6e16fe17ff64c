// Shared by vite-plugin-svelte and svelte-check. Runes everywhere: no legacy
// reactive `$:` syntax slips into new components.
export default {
  compilerOptions: { runes: true },
};
