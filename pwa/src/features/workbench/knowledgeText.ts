// The knowledge-degree (知彼度) catalogue comes from the server in Chinese (server/knowledge/
// catalogue.py, where admins' weights and the scoring live); this is its English catalog, keyed by
// the catalogue's codes. A test on the server side fails when a key here and there drift apart.
import { useI18n } from 'vue-i18n'

/** `<customer kind>.<dimension code>` → label. */
export const DIMENSIONS_EN: Record<string, string> = {
  'corporate.basic': 'Basic information',
  'corporate.decision_makers': 'Key decision makers',
  'corporate.company_profile': 'Company profile',
  'corporate.history': 'Company history',
  'individual.basic': 'Basic information',
  'individual.relationships': 'Relationships',
  'individual.personal_profile': 'Personal profile',
  'individual.history': 'Life history',
}

/** fact key → [label, the question to ask on the next visit]. */
export const FACTS_EN: Record<string, [string, string]> = {
  industry: ['Industry', 'Which industry is the main business in?'],
  size: ['Company size', 'How large is the company (staff, revenue band)?'],
  ownership: ['Ownership', 'Is it state-owned, central SOE, private or foreign-owned?'],
  location: ['Region', 'In which city is it registered and operating?'],
  address: ['Business address', 'Where does the company actually operate?'],
  registered_capital: ['Registered capital', 'What is the registered capital?'],
  founded_on: ['Founded', 'In which year was the company founded?'],
  office_phone: ['Contact phone', "What is the contact person's phone number?"],
  decision_maker: ['Key decision maker', 'Who has the final say on financing and settlement?'],
  finance_head: ['Head of finance', 'Who is the CFO (head of finance) and how to reach them?'],
  dm_preferences: ["Decision maker's preferences", "What are the decision maker's interests and ways of communicating?"],
  contact_network: ['Several contacts', 'Besides the current contact, which key people could you meet?'],
  decision_process: ['Decision process', 'How does the company choose the banks it works with?'],
  business_scope: ['Business scope', 'What are the main lines of business?'],
  main_products: ['Main products', 'What are the main products and services?'],
  revenue: ['Annual revenue', "Roughly what was last year's revenue?"],
  employees: ['Employees', 'How many employees does the company have now?'],
  suppliers: ['Main suppliers', 'Who are the main suppliers?'],
  buyers: ['Main buyers', 'Who are the main downstream customers?'],
  funding_need: ['Funding need', 'Any financing or working-capital need in the next six months?'],
  other_banks: ['Other banks', 'Which banks does the company bank and borrow with now?'],
  settlement: ['Settlement and payroll', 'Through which bank do settlement and payroll mainly go?'],
  milestones: ['Milestones', 'What were the key milestones in its development?'],
  financing_history: ['Financing history', 'What financing (loans, equity, bonds) has it had?'],
  shareholders: ['Shareholders', 'Who are the main shareholders?'],
  bank_history: ['History with our bank', 'What business has it done with our bank, and how did it go?'],
  gender: ['Gender', "(Profile) The customer's gender?"],
  birth_date: ['Birthday', "When is the customer's birthday?"],
  mobile: ['Mobile number', "What is the customer's usual mobile number?"],
  home_region: ['Home region', 'In which city does the customer live?'],
  occupation: ['Occupation', 'What does the customer do for a living?'],
  employer: ['Employer', 'Where does the customer work?'],
  income_band: ['Income band', "Roughly what is the customer's annual income band?"],
  risk_appetite: ['Risk appetite', 'How much investment risk can the customer accept (risk assessment)?'],
  family: ['Family', "Who is in the customer's family (spouse, children, parents)?"],
  referrals: ['Referrals', 'Which friends would the customer introduce?'],
  colleagues: ['Colleagues and circles', 'Which colleagues and circles does the customer spend time with?'],
  family_finance: ['Family finance decisions', "Who decides on the family's investments?"],
  interests: ['Interests', "What are the customer's hobbies and interests?"],
  channel_preference: ['Preferred channel', 'When and how does the customer like to be contacted?'],
  product_preference: ['Product preference', 'Which products does the customer prefer (deposits, wealth, insurance, funds)?'],
  investment_experience: ['Investment experience', 'What has the customer invested in before, with what results?'],
  financial_goals: ['Financial goals', "What are the customer's goals for the next years (retirement, education, a home)?"],
  life_events: ['Life events', 'What major life events happened lately (marriage, a child, a move, retirement)?'],
  family_milestones: ['Family milestones', 'Any school entry, wedding or similar coming up in the family?'],
  education: ['Education', 'Which school and subject did the customer graduate in?'],
  career_path: ['Career path', 'Where has the customer worked before?'],
}

/** Labels and questions of the catalogue in the UI's language: the server's Chinese, or the English above. */
export function useKnowledgeText() {
  const { locale } = useI18n()
  const english = () => locale.value === 'en'
  return {
    dimension: (kind: string, code: string, label: string) =>
      (english() && DIMENSIONS_EN[`${kind}.${code}`]) || label,
    fact: (key: string, label: string) => (english() && FACTS_EN[key]?.[0]) || label,
    question: (key: string, question: string) => (english() && FACTS_EN[key]?.[1]) || question,
  }
}
