import { readFileSync } from 'node:fs'
import t from 'tap'
import { quickRatio, sequenceRatio, validatePassword } from '../../lib/password-policy.js'

const EMAIL = 'alice@example.com'
const rules = (password: string, email = EMAIL) => validatePassword(password, email).map((v) => v.rule)

t.test('SequenceMatcher ratios match CPython 3.11 difflib', async (tt) => {
  // [a, b, SequenceMatcher(None, a, b).ratio(), .quick_ratio()] as printed by Python.
  const cases: [string, string, number, number][] = [
    ['abcd', 'bcde', 0.75, 0.75],
    ['alice', 'alice@example.com', 0.45454545454545453, 0.45454545454545453],
    ['same', 'same', 1, 1],
    ['', '', 1, 1],
    ['abc', '', 0, 0],
    ['', 'abc', 0, 0],
    ['qabxcd', 'abycdf', 0.6666666666666666, 0.6666666666666666],
    ['password', 'pass word', 0.9411764705882353, 0.9411764705882353],
    ['ecila123', 'alice', 0.15384615384615385, 0.7692307692307693],
    ['tide', 'diet', 0.25, 1],
    ['abcdefghij', 'jihgfedcba', 0.1, 1],
    ['héllo wörld', 'hello world', 0.8181818181818182, 0.8181818181818182],
    ['😀abc', 'abc😀', 0.75, 1],
    // 200+ items in b: autojunk drops the popular elements.
    [
      'x'.repeat(50) + 'abc' + 'y'.repeat(300),
      'y'.repeat(250) + 'abc' + 'x'.repeat(10) + 'z'.repeat(20),
      0.009433962264150943,
      0.8270440251572327,
    ],
    ['ab'.repeat(150), 'ba'.repeat(150) + 'c', 0, 0.9983361064891847],
  ]
  for (const [a, b, ratio, quick] of cases) {
    const label = `${JSON.stringify(a.slice(0, 20))} vs ${JSON.stringify(b.slice(0, 20))}`
    tt.equal(sequenceRatio(a, b), ratio, `ratio ${label}`)
    tt.equal(quickRatio(a, b), quick, `quick_ratio ${label}`)
  }
})

t.test('min_length', async (tt) => {
  tt.same(rules('Xq7!pz3'), ['min_length'])
  tt.same(rules('Xq7!pz3w'), [])
  // Counted in code points as Django does: seven emoji are seven characters, not fourteen.
  tt.same(rules('🦊🐝🐙🦉🐢🦔🐳'), ['min_length'])
  tt.same(validatePassword('Xq7!pz3', EMAIL), [
    {
      field: 'password',
      rule: 'min_length',
      message: 'This password is too short. It must contain at least 8 characters.',
    },
  ])
})

t.test('numeric', async (tt) => {
  tt.same(rules('9183746502'), ['numeric'])
  tt.same(rules('918374650a'), [])
  tt.same(rules('٩١٨٣٧٤٦٥٠٢'), ['numeric'], 'digits of any script, like str.isdigit()')
  tt.same(validatePassword('9183746502', EMAIL), [
    { field: 'password', rule: 'numeric', message: 'This password is entirely numeric.' },
  ])
})

t.test('common', async (tt) => {
  for (const password of ['password', '123456', 'qwerty', 'iloveyou', 'sunshine', 'trustno1']) {
    tt.ok(rules(password).includes('common'), `${password} is common`)
  }
  tt.same(rules('  PassWord1 '), ['common'], 'compared lowercased and trimmed')
  tt.same(rules('Xq7!pz3w'), [])
  tt.same(validatePassword('baseball', EMAIL), [
    { field: 'password', rule: 'common', message: 'This password is too common.' },
  ])

  const list = readFileSync(new URL('../../lib/common-passwords.txt', import.meta.url), 'utf8')
    .trimEnd()
    .split('\n')
  tt.ok(list.length >= 10_000, `list has ${list.length} entries`)
  tt.equal(new Set(list).size, list.length, 'entries are unique')
  tt.ok(
    list.every((p) => p === p.toLowerCase().trim() && p !== ''),
    'entries are lowercase and trimmed',
  )
})

t.test('similar_to_email', async (tt) => {
  const similar = [
    { field: 'password', rule: 'similar_to_email', message: 'The password is too similar to the email.' },
  ]
  tt.same(validatePassword('alice123', EMAIL), similar, 'local part plus digits')
  tt.same(rules('ALICE123'), ['similar_to_email'], 'compared lowercased')
  tt.same(rules('alice@example.com'), ['similar_to_email'], 'the whole email')
  tt.same(rules('example!'), ['similar_to_email'], 'the domain part')
  tt.same(rules('ecila123'), ['similar_to_email'], 'reordered letters count too: Django uses quick_ratio()')
  tt.same(rules('paper-lantern-82'), [])
  tt.same(rules('alice123', ''), [], 'no email, nothing to compare')
  // Parts under a tenth of the password's length are skipped, as in Django.
  tt.same(rules('a lengthy passphrase that mentions x', 'x@example.com'), [])
})

t.test('a strong passphrase passes', async (tt) => {
  tt.same(validatePassword('correct horse battery staple', EMAIL), [])
  tt.same(validatePassword('Tr0ub4dor&3-but-longer', 'bob.smith@example.org'), [])
})

t.test('several violations are reported together, in Django order', async (tt) => {
  tt.same(rules('123456', '123456@example.com'), ['similar_to_email', 'min_length', 'common', 'numeric'])
  tt.same(rules('alice', EMAIL), ['similar_to_email', 'min_length', 'common'])
  tt.ok(validatePassword('123456', '123456@example.com').every((v) => v.field === 'password'))
})
