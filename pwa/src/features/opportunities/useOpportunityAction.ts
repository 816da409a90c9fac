// The opportunity screens share one way to load an opportunity and one way to send a form about it:
// a busy flag while it travels, a toast with the outcome, then the opportunity's own page.
import { computed, onMounted, ref, toValue, type MaybeRefOrGetter } from 'vue'
import { useRouter } from 'vue-router'
import { opportunitiesApi, type OpportunityDetail } from '@/api/opportunities'
import { showFailToast, showSuccessToast } from '@/ui/feedback'
import { onceKey } from './onceKey'
import { errorMessage } from '@/api/errors'

export interface LoadOptions {
  /** Fetched together with the opportunity (e.g. the RMs a lead can pick); a failure fails the load. */
  alongside?: () => Promise<void>
  /** Fills the form from the loaded opportunity. */
  loaded?: (opp: OpportunityDetail) => void
}

/** One opportunity, loaded when the screen mounts; `load` again to retry or refresh. */
export function useOpportunity(id: MaybeRefOrGetter<number>, options: LoadOptions = {}) {
  const opp = ref<OpportunityDetail | null>(null)
  const error = ref<unknown>(null)

  async function load() {
    error.value = null
    try {
      const [detail] = await Promise.all([opportunitiesApi.get(toValue(id)), options.alongside?.()])
      opp.value = detail
      options.loaded?.(detail)
    } catch (err) {
      error.value = err
    }
  }
  onMounted(load)
  return { opp, error, load }
}

/**
 * Sends a form: `request` answers the id of the opportunity to open afterwards. `failed` sees a
 * refusal before its message is shown (to mark fields, or to update what the screen shows).
 */
export function useSend() {
  const router = useRouter()
  const saving = ref(false)

  async function send(request: () => Promise<number>, done: () => string, failed?: (err: unknown) => void) {
    saving.value = true
    try {
      const id = await request()
      showSuccessToast(done())
      void router.replace(`/opportunities/${id}`)
    } catch (err) {
      failed?.(err)
      showFailToast(errorMessage(err))
    } finally {
      saving.value = false
    }
  }
  return { saving, send }
}

/**
 * A team lead's audited action on one opportunity: the opportunity, the reason the lead gives, and
 * `act`, which sends a body once (the same body again keeps its Idempotency-Key). `frame` is what
 * LeadActionPage shows of it: `<LeadActionPage v-bind="frame" ...>`.
 */
export function useOpportunityAction(id: MaybeRefOrGetter<number>, options: LoadOptions = {}) {
  const { opp, error, load } = useOpportunity(id, options)
  const { saving, send } = useSend()
  const reason = ref('')
  const keyFor = onceKey()

  function act<B>(
    body: B,
    request: (id: number, body: B, key: string) => Promise<unknown>,
    done: () => string,
    failed?: (err: unknown) => void,
  ) {
    return send(
      async () => {
        await request(toValue(id), body, keyFor(body))
        return toValue(id)
      },
      done,
      failed,
    )
  }
  const frame = computed(() => ({ opp: opp.value, error: error.value, saving: saving.value, onRetry: load }))
  return { opp, reason, act, frame }
}
