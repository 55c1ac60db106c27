import t from 'tap'
import { parseRate } from '../../lib/rate.js'

t.test('every unit spelling the config accepts maps to its window', async (tt) => {
  const cases: [string, number][] = [
    ['1/s', 1000],
    ['1/sec', 1000],
    ['1/second', 1000],
    ['1/m', 60_000],
    ['1/min', 60_000],
    ['1/minute', 60_000],
    ['1/h', 3_600_000],
    ['1/hour', 3_600_000],
    ['1/d', 86_400_000],
    ['1/day', 86_400_000],
  ]
  for (const [rate, windowMs] of cases) tt.same(parseRate(rate), { max: 1, windowMs }, rate)
})

t.test('the count is kept as a number', async (tt) => {
  tt.same(parseRate('3/hour'), { max: 3, windowMs: 3_600_000 })
  tt.same(parseRate('1000/day'), { max: 1000, windowMs: 86_400_000 })
  tt.same(parseRate('20/minute'), { max: 20, windowMs: 60_000 })
})

t.test('"off" disables the limit', async (tt) => {
  tt.equal(parseRate('off'), null)
})

t.test('malformed rates throw instead of becoming a NaN or missing limit', async (tt) => {
  for (const bad of ['3/fortnight', 'abc', '', '3', '/hour', '-1/hour', '1.5/hour', '3/hour/extra', 'OFF', ' 3/hour'])
    tt.throws(() => parseRate(bad), /Invalid rate/, JSON.stringify(bad))
})
