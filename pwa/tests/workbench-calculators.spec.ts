import { describe, expect, it } from 'vitest'
import { deposit, fx, loan } from '@/features/workbench/calculators'

describe('workbench calculators (offline, hand-computed)', () => {
  it('loan: equal installments and equal principal', () => {
    // 100,000 at 4.8% for 12 months: r = 0.004, payment = P r (1+r)^n / ((1+r)^n - 1)
    expect(loan(100000, 0.048, 12, 'annuity')).toEqual({ monthlyPayment: 8551.59, totalInterest: 2619.03, totalPayment: 102619.03 })
    // equal principal: first month 100000/12 + 100000 * 0.004; interest r * P/n * n(n+1)/2 = 2600
    expect(loan(100000, 0.048, 12, 'principal')).toEqual({ monthlyPayment: 8733.33, totalInterest: 2600, totalPayment: 102600 })
    expect(loan(12000, 0, 12, 'annuity').monthlyPayment).toBe(1000)
    expect(loan(-1, 0.05, 12, 'annuity').totalPayment).toBe(0)
  })

  it('deposit: simple interest to maturity', () => {
    expect(deposit(100000, 0.0175, 365)).toEqual({ interest: 1750, maturity: 101750 })
    expect(deposit(100000, 0.0175, 0)).toEqual({ interest: 0, maturity: 100000 })
  })

  it('fx: the spread moves the rate against the customer', () => {
    expect(fx(71000, 7.1, 50, 'buy')).toEqual({ rate: 7.1355, result: 9950.25 })
    expect(fx(1000, 7.1, 50, 'sell')).toEqual({ rate: 7.0645, result: 7064.5 })
  })
})
