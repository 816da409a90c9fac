// Vant's function-style APIs are not templates, so the resolver cannot see them: their styles are
// imported here, once, on demand.
import 'vant/es/toast/style'
import 'vant/es/dialog/style'
export { showConfirmDialog, showToast, showSuccessToast, showFailToast } from 'vant'
