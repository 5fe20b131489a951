/**
 * 人群分类 on the notifiable-disease report card (传染病报告卡), in the national order
 * (shared/domain/rules.md §1); code = index + 1. One list for the server, the simulator and the web app.
 */
export const OCCUPATION_CLASSES = [
  '幼托儿童',
  '散居儿童',
  '学生(大中小学)',
  '教师',
  '保育员及保姆',
  '餐饮食品业',
  '商业服务',
  '医务人员',
  '工人',
  '民工',
  '农民',
  '牧民',
  '渔(船)民',
  '干部职员',
  '离退人员',
  '家务及待业',
  '其他',
  '不详',
] as const;
