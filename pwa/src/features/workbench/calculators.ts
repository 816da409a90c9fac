// The RM's calculators (贷款 / 存款 / 外汇): pure functions, so they run offline in the PWA.

export interface LoanSchedule {
  monthlyPayment: number // first month's payment for equal principal
  totalInterest: number
  totalPayment: number
}

/** Equal installments (等额本息) or equal principal (等额本金); rate is yearly, e.g. 0.0385. */
export function loan(principal: number, yearlyRate: number, months: number, method: 'annuity' | 'principal'): LoanSchedule {
  if (principal <= 0 || months <= 0 || yearlyRate < 0) return { monthlyPayment: 0, totalInterest: 0, totalPayment: 0 }
  const r = yearlyRate / 12
  if (method === 'annuity') {
    const payment = r === 0 ? principal / months : (principal * r * (1 + r) ** months) / ((1 + r) ** months - 1)
    const total = payment * months
    return { monthlyPayment: round2(payment), totalInterest: round2(total - principal), totalPayment: round2(total) }
  }
  // Equal principal: interest on the outstanding balance, falling every month.
  const part = principal / months
  const interest = (r * part * months * (months + 1)) / 2
  return { monthlyPayment: round2(part + principal * r), totalInterest: round2(interest), totalPayment: round2(principal + interest) }
}

/** A time deposit held to maturity: simple interest at the yearly rate for `days` (365-day year). */
export function deposit(amount: number, yearlyRate: number, days: number): { interest: number; maturity: number } {
  if (amount <= 0 || days <= 0 || yearlyRate < 0) return { interest: 0, maturity: Math.max(amount, 0) }
  const interest = round2((amount * yearlyRate * days) / 365)
  return { interest, maturity: round2(amount + interest) }
}

/** Converts at the middle rate with the bank's spread in basis points: the customer buys the foreign
 * currency at mid × (1 + spread) and sells it at mid × (1 − spread). `rate` is CNY per 1 unit. */
export function fx(amount: number, midRate: number, spreadBp: number, direction: 'buy' | 'sell'): { rate: number; result: number } {
  if (amount <= 0 || midRate <= 0) return { rate: 0, result: 0 }
  const spread = spreadBp / 10000
  const rate = direction === 'buy' ? midRate * (1 + spread) : midRate * (1 - spread)
  // buy: CNY amount -> foreign currency; sell: foreign currency -> CNY
  const result = direction === 'buy' ? amount / rate : amount * rate
  return { rate: Math.round(rate * 10000) / 10000, result: round2(result) }
}

function round2(value: number): number {
  return Math.round(value * 100) / 100
}
