import pluginVue from 'eslint-plugin-vue'
import { defineConfigWithVueTs, vueTsConfigs } from '@vue/eslint-config-typescript'

const LOCALE_CALL = 'CallExpression[callee.property.name=/^toLocale(Date|Time)?String$/]'
const LOCALE_MESSAGE = 'Format instants and amounts with src/lib/format.ts (the user\'s zone and language).'

export default defineConfigWithVueTs(
  { ignores: ['dist/**', 'dev-dist/**', 'node_modules/**', 'components.d.ts', 'coverage/**'] },
  pluginVue.configs['flat/recommended'],
  vueTsConfigs.recommended,
  {
    rules: {
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/html-indent': 'off',
      'vue/html-closing-bracket-newline': 'off',
      'vue/attribute-hyphenation': 'off',
      'vue/v-on-event-hyphenation': 'off',
    },
  },
  {
    // Instants and amounts become text in src/lib/format.ts only: it knows the user's zone and
    // language, where toLocale*String would use the device's.
    ignores: ['src/lib/format.ts'],
    rules: {
      'no-restricted-syntax': ['error', { selector: LOCALE_CALL, message: LOCALE_MESSAGE }],
      'vue/no-restricted-syntax': ['error', { selector: LOCALE_CALL, message: LOCALE_MESSAGE }],
    },
  },
)
