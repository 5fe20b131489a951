/**
 * Toneless Hanyu Pinyin of characters common in Chinese personal names, simplified and
 * traditional forms together, grouped by syllable (so two characters are homophones exactly when
 * they sit in the same group). Readings are the usual name readings as given by the Unihan
 * database's kMandarin field (first reading; surname readings where they differ, e.g. 覃 qin,
 * 单 shan, 曾 zeng, 乐 le). Coverage: the 100 most common surnames, common compound surnames and
 * some 900 frequent given-name characters; characters outside the table compare by identity only.
 */
export const PINYIN_GROUPS = `
a:阿 ai:爱愛艾 an:安 bai:白柏百 bang:邦 bao:宝寶包鲍鮑 bei:贝貝蓓 ben:本 bi:毕畢碧 bian:卞 bin:斌彬滨濱宾賓 bing:兵冰秉 bo:博波 bu:卜步
cai:才材蔡彩 can:灿燦 cao:曹 ce:策 cen:岑 chang:常长長昌畅暢 chao:超朝 che:车車 chen:陈陳晨辰宸臣琛 cheng:成程承诚誠 chi:迟遲池 chong:崇 chu:楚褚储儲 chuan:川 chun:春纯純醇 cong:聪聰丛叢 cui:崔翠 cun:村
da:大达達 dai:戴黛 dan:丹 dao:道 de:德得 deng:邓鄧登 di:迪狄笛 dian:典 diao:刁 ding:丁定 dong:东東董栋棟冬 dou:窦竇 du:杜 duan:段端 dun:敦
e:娥 en:恩 er:尔爾
fa:发發 fan:范凡樊帆 fang:方芳房 fei:飞飛费費菲斐霏 fen:芬 feng:冯馮凤鳳峰锋鋒枫楓封丰豐 fu:福付傅甫伏富馥符
gan:甘 gang:刚剛钢鋼 gao:高 ge:葛格戈 gen:根 geng:耕 gong:龚龔公功宫宮 gu:顾顧谷古 guan:官关關管冠 guang:光广廣 gui:桂贵貴 guo:国國郭果
hai:海 han:韩韓含晗涵汉漢翰寒 hang:航杭 hao:浩昊皓豪郝好 he:何贺賀和荷鹤鶴赫 heng:恒衡 hong:红紅虹鸿鴻洪宏泓 hou:侯候厚 hu:胡虎狐湖 hua:华華花桦樺划 huai:怀懷 huan:欢歡焕煥环環 huang:黄黃皇 hui:惠慧辉輝晖暉挥揮蕙会會 huo:霍
ji:吉季纪紀计計继繼稷姬 jia:佳家嘉贾賈 jian:建健剑劍坚堅 jiang:江姜蒋蔣 jiao:娇嬌焦皎 jie:杰傑洁潔捷婕 jin:金锦錦晋晉进進靳 jing:静靜晶婧景敬京睛菁 jiu:久 ju:菊聚 juan:娟涓鹃鵑 jun:军軍俊君骏駿峻浚钧鈞竣
kai:凯凱楷开開 kang:康 ke:可克柯 kong:孔 kuan:宽寬 kun:坤昆
lan:兰蘭蓝藍岚嵐 lang:郎朗 le:乐樂 lei:雷磊蕾 li:李丽麗莉立黎利力俪儷理 lian:连連莲蓮练練廉 liang:梁亮良 liao:廖 lin:林琳霖淋麟 ling:玲令铃鈴灵靈凌龄齡陵 liu:刘劉柳 long:龙龍隆 lou:娄婁 lu:陆陸卢盧路鲁魯露璐鹭鷺 lun:伦倫 luo:罗羅骆駱 lv:吕呂绿綠
ma:马馬麻 man:曼 mao:毛茂茅 mei:梅美玫 meng:孟梦夢蒙萌 mi:米 miao:苗缪繆淼 min:敏民珉闵閔 ming:明铭銘鸣鳴 mo:莫墨末 mu:木沐慕穆
na:娜 nan:南楠 ni:倪妮 nie:聂聶 ning:宁寧 niu:牛 nuo:诺諾
ou:欧歐
pan:潘 pang:庞龐 pei:裴培佩沛 peng:彭朋鹏鵬 pi:皮 ping:平萍苹蘋
qi:琦琪淇齐齊戚祁奇祺绮綺其 qian:倩茜钱錢谦謙芊千 qiang:强強蔷薔 qiao:乔喬巧 qin:秦覃琴勤钦欽 qing:庆慶晴清青 qiong:琼瓊 qiu:邱丘秋 qu:曲屈瞿 quan:全泉 qun:群
ran:然冉苒 ren:任仁 rong:荣榮容蓉融 rou:柔 ru:茹如 ruan:阮 rui:睿瑞锐銳蕊 run:润潤 ruo:若
sen:森 sha:沙莎 shan:山珊杉善姗单單 shang:上尚 shao:邵绍紹少 shen:沈申 sheng:生胜勝盛圣聖 shi:史石诗詩施时時士世 shou:守寿壽 shu:书書树樹淑舒 shuai:帅帥 shuang:双雙爽 shui:水 shun:顺順 si:司思斯 song:宋松颂頌 su:苏蘇素 sun:孙孫
tan:谭譚谈談 tang:唐汤湯 tao:陶涛濤韬韜桃 teng:滕 tian:天田甜 tie:铁鐵 ting:婷亭庭停 tong:彤桐童通佟 tu:徒涂塗
wan:万萬婉宛 wang:王汪旺 wei:卫衛伟偉魏韦韋炜煒玮瑋纬緯维維威薇巍危尉 wen:文雯温溫闻聞稳穩 weng:翁 wu:吴吳武伍邬鄔午
xi:夕汐熙希席奚西 xia:夏霞侠俠 xian:先贤賢宪憲 xiang:向祥翔湘香项項想 xiao:小晓曉肖筱萧蕭笑孝霄潇瀟骁驍 xie:谢謝解 xin:欣新心鑫馨 xing:星兴興邢 xiong:熊雄 xiu:秀绣繡 xu:徐许許旭绪緒 xuan:宣萱轩軒璇玄 xue:雪薛学學
ya:雅亚亞 yan:严嚴燕艳艷妍研闫閆颜顏彦彥雁岩炎延言 yang:杨楊阳陽扬揚洋 yao:姚瑶瑤遥遙耀 ye:叶葉晔曄烨燁 yi:一仪儀依怡宜奕已易艺藝益毅逸轶軼 yin:尹殷银銀茵 ying:英瑛颖穎莹瑩影盈应應滢瀅鹰鷹 yong:勇永涌雍 you:有友尤 yu:于余俞宇玉羽雨语語钰鈺喻瑜虞禹豫毓 yuan:袁远遠元源媛渊淵缘緣 yue:月越悦悅岳玥粤粵 yun:云雲芸韵韻筠蕴蘊
zan:赞贊 zang:臧 ze:泽澤 zeng:曾增 zhan:展 zhang:张張章璋 zhao:赵趙照钊釗 zhen:振珍贞貞真甄 zheng:郑鄭正政征睁睜铮錚 zhi:志智芷支芝 zhong:钟鍾鐘忠 zhou:周舟 zhu:朱诸諸祝竹 zhuang:庄莊壮壯 zhuo:卓 zi:子紫梓字资資 zong:宗 zou:邹鄒 zu:祖 zuo:左
`;

/** Compound surnames (复姓) with their readings where a character reads differently in them. */
export const COMPOUND_SURNAMES: Record<string, string> = {
  欧阳: 'ouyang',
  歐陽: 'ouyang',
  司马: 'sima',
  司馬: 'sima',
  上官: 'shangguan',
  诸葛: 'zhuge',
  諸葛: 'zhuge',
  东方: 'dongfang',
  東方: 'dongfang',
  皇甫: 'huangfu',
  尉迟: 'yuchi',
  尉遲: 'yuchi',
  公孙: 'gongsun',
  公孫: 'gongsun',
  慕容: 'murong',
  令狐: 'linghu',
  夏侯: 'xiahou',
  长孙: 'zhangsun',
  長孫: 'zhangsun',
  宇文: 'yuwen',
  司徒: 'situ',
  端木: 'duanmu',
  西门: 'ximen',
  南宫: 'nangong',
  独孤: 'dugu',
  万俟: 'moqi',
  闻人: 'wenren',
  轩辕: 'xuanyuan',
  钟离: 'zhongli',
  呼延: 'huyan',
  澹台: 'tantai',
  申屠: 'shentu',
  赫连: 'helian',
  淳于: 'chunyu',
  单于: 'chanyu',
  拓跋: 'tuoba',
};
