// The next steps an intel alert offers (创建商机, 发起作战室), run the one way from the alert detail
// and from a card in the feed: the server describes each action as a request (see the alert
// detail's `actions`), this sends it and opens what it created.
import { ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { errorMessage } from '@/api/errors'
import { useRouter } from 'vue-router'
import { intelApi, type AlertAction } from '@/api/intel'
import { showFailToast, showSuccessToast } from '@/ui/feedback'

export type AlertActionName = AlertAction['action']

const OPENS: Record<AlertActionName, string> = {
  start_war_room: '/war-rooms',
  create_opportunity: '/opportunities',
}

export function useAlertActions() {
  const { t } = useI18n()
  const router = useRouter()
  const busy = ref<string | null>(null) // `${alertId}:${action}` while it runs; taps meanwhile are ignored

  async function run(action: AlertAction): Promise<void> {
    if (!action.available) return
    try {
      const created = await intelApi.runAction(action)
      showSuccessToast(t('intel.actionDone'))
      if (created?.id) await router.push(`${OPENS[action.action]}/${created.id}`)
    } catch (exc) {
      showFailToast(errorMessage(exc))
    }
  }

  /** From a feed card, which carries no actions: the alert's own description of them first. */
  async function runFor(alertId: number, name: AlertActionName): Promise<void> {
    if (busy.value) return
    busy.value = `${alertId}:${name}`
    try {
      const detail = await intelApi.alert(alertId)
      const action = detail.actions.find((a) => a.action === name)
      if (action?.available) await run(action)
      else showFailToast(t('intel.unavailable'))
    } catch (exc) {
      showFailToast(errorMessage(exc))
    } finally {
      busy.value = null
    }
  }

  return { busy, run, runFor }
}
