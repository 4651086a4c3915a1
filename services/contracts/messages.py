"""Every user-visible text of the contract analyzer, in Chinese and English."""
from __future__ import annotations

from services import i18n

MESSAGES = {
    # Page
    "contract.title": {"zh": "合同条款审查", "en": "Contract clause review"},
    "contract.intro": {
        "zh": "上传合同（PDF、DOCX、TXT），选择您在合同中的身份和合同类型，逐条查看条款偏向哪一方、对您的风险高低、修改建议，以及缺失的条款。",
        "en": "Upload a contract (PDF, DOCX, TXT), choose your side and the contract type, and see for every clause "
              "whom it favours, how risky it is for you, suggested wording, and which clauses are missing.",
    },
    "contract.upload": {"zh": "上传合同文件", "en": "Upload a contract"},
    "contract.paste": {"zh": "或直接粘贴合同文字", "en": "Or paste the contract text"},
    "contract.pasted_name": {"zh": "粘贴的合同", "en": "pasted contract"},
    "contract.type_hint": {"zh": "提示：该合同看起来像「{kind}」，可在上方更改合同类型。",
                           "en": "Hint: this looks like a '{kind}' contract; you can change the type above."},
    "contract.side": {"zh": "您的身份", "en": "Your side"},
    "contract.type": {"zh": "合同类型", "en": "Contract type"},
    "contract.use_model": {"zh": "使用模型逐条分析", "en": "Analyse with the model"},
    "contract.use_model_help": {"zh": "关闭则只用规则检查：未命中规则的条款会标为“未评估”。",
                                "en": "Off: rules only; clauses no rule matches are marked 'not assessed'."},
    "contract.analyse": {"zh": "开始审查", "en": "Review contract"},
    "contract.reading": {"zh": "正在读取 {file} …", "en": "Reading {file} …"},
    "contract.progress": {"zh": "正在分析第 {done}/{total} 批条款 …", "en": "Analysing clause batch {done}/{total} …"},
    "contract.done": {"zh": "审查完成", "en": "Review finished"},
    "contract.no_file": {"zh": "请先上传合同文件。", "en": "Please upload a contract first."},
    "contract.tab.summary": {"zh": "概览", "en": "Summary"},
    "contract.tab.clauses": {"zh": "逐条分析", "en": "Clauses"},
    "contract.tab.text": {"zh": "原文标注", "en": "Original text"},
    "contract.tab.export": {"zh": "导出报告", "en": "Export"},
    "contract.top_risks": {"zh": "主要风险（按严重程度）", "en": "Top risks (most serious first)"},
    "contract.no_risks": {"zh": "未发现中高风险条款。", "en": "No medium or high risks found."},
    "contract.not_assessed": {"zh": "{count} / {total} 个条款未评估：规则未命中，模型也没有给出结果，它们的风险未知。",
                              "en": "{count} of {total} clauses were not assessed: no rule matched and no model "
                                    "result came back, so their risk is unknown."},
    "contract.not_assessed_all": {"zh": "全部 {count} 个条款均未评估：规则未命中任何条款，也没有模型结果。这不代表合同没有风险。",
                                  "en": "None of the {count} clauses was assessed: no rule matched and there is no "
                                        "model result. This does not mean the contract is safe."},
    "contract.no_verdict": {"zh": "无法给出结论：{count} 个条款都未评估（可打开「使用模型」再审查一次）。",
                            "en": "No verdict: all {count} clauses are unassessed (turn on the model and review again)."},
    "contract.no_risks_in_assessed": {"zh": "已评估的 {assessed} 个条款中未发现中高风险；另有 {count} 个条款未评估，风险未知。",
                                      "en": "No medium or high risk among the {assessed} assessed clauses; {count} "
                                            "more were not assessed and their risk is unknown."},
    "contract.missing": {"zh": "缺失条款", "en": "Missing clauses"},
    "contract.none_missing": {"zh": "该类型的常见条款均已覆盖。", "en": "All the usual clauses for this type are present."},
    "contract.one_sided": {"zh": "双方权利义务不对等", "en": "One-sidedness across clauses"},
    "contract.chart.risk": {"zh": "风险等级", "en": "Risk level"},
    "contract.chart.favours": {"zh": "条款偏向", "en": "Clause favours"},
    "contract.chart.count": {"zh": "条款数", "en": "Clauses"},
    "contract.chart.title": {"zh": "条款风险与偏向分布", "en": "Clauses by risk and favoured party"},
    "contract.col.id": {"zh": "条款", "en": "Clause"},
    "contract.col.title": {"zh": "标题", "en": "Title"},
    "contract.col.favours": {"zh": "偏向", "en": "Favours"},
    "contract.col.risk": {"zh": "风险", "en": "Risk"},
    "contract.col.reason": {"zh": "理由", "en": "Reason"},
    "contract.col.suggestion": {"zh": "修改建议", "en": "Suggested wording"},
    "contract.col.flags": {"zh": "提示", "en": "Flags"},
    "contract.col.text": {"zh": "原文", "en": "Text"},
    "contract.download.md": {"zh": "下载 Markdown 报告", "en": "Download Markdown report"},
    "contract.download.docx": {"zh": "下载 Word 报告", "en": "Download Word report"},
    "contract.download.json": {"zh": "下载 JSON 数据", "en": "Download JSON data"},
    "contract.legend": {"zh": "颜色：红＝高风险，橙＝中风险，绿＝低风险", "en": "Colours: red = high risk, orange = medium, green = low"},
    "contract.model_used": {"zh": "分析模型：{model}", "en": "Model: {model}"},
    "contract.rules_only": {"zh": "仅规则检查（未使用模型），偏向与风险来自规则，未命中规则的条款标为“未评估”。",
                            "en": "Rules only (no model): favours and risk come from the rules; clauses no rule "
                                  "touches are shown as 'not assessed'."},
    "contract.clauses_found": {"zh": "共识别 {count} 个条款（{method}）", "en": "{count} clauses found ({method})"},
    "contract.method.numbered": {"zh": "按合同编号切分", "en": "split by the contract's numbering"},
    "contract.method.paragraphs": {"zh": "按段落切分", "en": "split by paragraphs"},
    "contract.note.no_numbering": {
        "zh": "未识别到条款编号（如“第一条”“1.”“Article 1”），已按段落切分，条款编号为 P1、P2…",
        "en": "No clause numbering found (such as 第一条, 1., Article 1); the text was split into paragraphs P1, P2 …",
    },
    "contract.note.numbering_detached": {
        "zh": "编号与正文在提取时被分开（常见于排版复杂的 PDF），已改按段落切分。",
        "en": "The numbers were separated from their text when the file was read (common in laid-out PDFs); "
              "the text was split into paragraphs instead.",
    },
    "contract.note.ocr": {"zh": "部分页面为扫描件，已通过 OCR 识别文字，请核对原文。",
                          "en": "Some pages were scanned and read by OCR; check the text against the original."},
    "contract.note.not_contract": {
        "zh": "该文件看起来不像合同（没有条款编号，也没有合同常见用语），结果仅供参考。",
        "en": "This file does not look like a contract (no clause numbering and no usual contract wording); "
              "treat the results with care.",
    },
    "contract.note.long": {"zh": "合同较长（{count} 个条款），将分 {batches} 批分析。",
                           "en": "A long contract ({count} clauses), analysed in {batches} batches."},
    "contract.note.dropped": {"zh": "已丢弃 {count} 条指向不存在条款编号的模型结果。",
                              "en": "Dropped {count} model results that named clause ids not in this batch."},
    "contract.note.echoed": {"zh": "{count} 个条款的模型结果只是复述了给模型的指令，已弃用，保留规则检查结果。",
                             "en": "{count} clause results only repeated the model's instructions; they were "
                                   "discarded and the rule results kept."},
    "contract.note.model_failed": {"zh": "{count} 个条款模型未能给出有效结果，仅保留规则检查结果。",
                                   "en": "The model gave no valid result for {count} clauses; only rule results are kept."},
    "contract.note.model_stopped": {
        "zh": "⚠ 模型审查中途失败，已保留已完成部分的结果，其余条款只有规则检查结果：{error}",
        "en": "⚠ The model review failed part-way; the finished part is kept and the other clauses have rule "
              "results only: {error}",
    },
    "contract.note.injection": {
        "zh": "⚠ {count} 个条款含有针对 AI 的指令性文字（如“忽略之前的指令”），已单独分析并标注，不会影响其他条款的结论。",
        "en": "⚠ {count} clauses contain text aimed at an AI (such as 'ignore previous instructions'); they were "
              "analysed on their own and flagged, and cannot change the other clauses' results.",
    },
    "contract.flag.injection": {"zh": "含针对AI的指令文字", "en": "text aimed at the AI"},
    "contract.flag.truncated": {"zh": "条款过长，仅分析前部", "en": "clause too long, only its start was analysed"},
    "contract.flag.model_error": {"zh": "模型未给出结果", "en": "no model result"},
    "contract.injection_reason": {
        "zh": "该条款包含试图指挥 AI 审查工具的文字（{phrases}），这本身就是异常信号，请人工仔细核对。",
        "en": "This clause contains text that tries to instruct an AI reviewer ({phrases}); that is a warning sign "
              "in itself — read it carefully yourself.",
    },
    # Values
    "contract.risk.high": {"zh": "高", "en": "high"},
    "contract.risk.medium": {"zh": "中", "en": "medium"},
    "contract.risk.low": {"zh": "低", "en": "low"},
    "contract.risk.": {"zh": "未评估", "en": "not assessed"},
    "contract.favours.balanced": {"zh": "均衡", "en": "balanced"},
    "contract.favours.": {"zh": "未判断", "en": "not judged"},
    "contract.side.agency": {"zh": "中介方", "en": "agency"},
    "contract.side.neutral": {"zh": "中立审阅", "en": "neutral reviewer"},
    "contract.role.lessor": {"zh": "出租方", "en": "lessor (landlord)"},
    "contract.role.lessee": {"zh": "承租方", "en": "lessee (tenant)"},
    "contract.role.employer": {"zh": "用人单位", "en": "employer"},
    "contract.role.employee": {"zh": "劳动者", "en": "employee"},
    "contract.role.seller": {"zh": "卖方", "en": "seller"},
    "contract.role.buyer": {"zh": "买方", "en": "buyer"},
    "contract.role.provider": {"zh": "服务提供方", "en": "service provider"},
    "contract.role.client": {"zh": "委托方（客户）", "en": "client"},
    "contract.role.discloser": {"zh": "披露方", "en": "disclosing party"},
    "contract.role.recipient": {"zh": "接收方", "en": "receiving party"},
    "contract.role.party_a": {"zh": "甲方", "en": "party A"},
    "contract.role.party_b": {"zh": "乙方", "en": "party B"},
    "contract.type.lease": {"zh": "租赁合同", "en": "Lease"},
    "contract.type.labour": {"zh": "劳动合同", "en": "Employment"},
    "contract.type.purchase": {"zh": "买卖/采购合同", "en": "Purchase / sale"},
    "contract.type.service": {"zh": "服务合同", "en": "Services"},
    "contract.type.nda": {"zh": "保密协议", "en": "NDA"},
    "contract.type.other": {"zh": "其他", "en": "Other"},
    # Rule findings
    "contract.rule.late_fee": {"zh": "逾期每日按 {daily}% 计收滞纳金，折合年化约 {annual}%，明显过高。",
                               "en": "Late fee of {daily}% per day, about {annual}% a year — far too high."},
    "contract.rule.penalty": {"zh": "违约金相当于 {months} 个月租金（连同不退的押金共约 {total} 个月）。",
                              "en": "Penalty of {months} months' rent (about {total} months with the forfeited deposit)."},
    "contract.rule.deposit": {"zh": "押金相当于 {months} 个月租金。", "en": "Deposit of {months} months' rent."},
    "contract.rule.deposit_return": {"zh": "押金退还期限长达 {days} 日（{unit}），超过 30 日。",
                                     "en": "Deposit returned only within {days} days ({unit}), more than 30 days."},
    "contract.rule.deposit_deduction": {"zh": "{who}可单方决定扣除押金，扣除标准不明。",
                                        "en": "The {who} may deduct from the deposit at its own discretion, with no stated criteria."},
    "contract.rule.short_notice": {"zh": "仅需提前 {days} 日通知即可解除或变更合同，期限过短。",
                                   "en": "Only {days} days' notice is needed to end or change the contract — too short."},
    "contract.rule.notice": {"zh": "通知期 {days} 日。", "en": "Notice period of {days} days."},
    "contract.rule.unilateral_change": {"zh": "{who}可单方调整价格/租金。", "en": "The {who} may change the price or rent on its own."},
    "contract.rule.entry_without_notice": {"zh": "{who}可随时进入房屋且无需通知，侵犯居住安宁。", "en": "The {who} may enter the premises at any time without notice."},
    "contract.rule.all_repairs": {"zh": "无论原因，一切维修由{other}承担。", "en": "All repairs fall on the {other} whatever the cause."},
    "contract.rule.deemed_breach": {"zh": "{other}不同意变更即被视为违约/解约。", "en": "If the {other} refuses the change, it counts as breach or termination."},
    "contract.rule.no_refund": {"zh": "已付款项在任何情况下不予退还。", "en": "Money paid is not refundable in any case."},
    "contract.rule.dispose_belongings": {"zh": "{who}可自行处置{other}的物品。", "en": "The {who} may dispose of the {other}'s belongings."},
    "contract.rule.total_exemption": {"zh": "{who}被免除全部责任。", "en": "The {who} is released from all liability."},
    "contract.rule.preemptive_right": {"zh": "{who}享有优先权（如优先承租/购买）。", "en": "The {who} has a pre-emptive right (first refusal / renewal)."},
    "contract.rule.home_court": {"zh": "争议由{who}所在地法院管辖。", "en": "Disputes go to the court where the {who} is based."},
    "contract.rule.sole_discretion": {"zh": "{who}可自行决定或无需通知行事。", "en": "The {who} acts at its sole discretion or without notice."},
    "contract.rule.penalty_multiple": {"zh": "违约金为租金的 {times} 倍（约 {months} 个月租金），明显过高。",
                                       "en": "The penalty is {times} times the rent (about {months} months' rent)."},
    "contract.rule.penalty_loss_multiple": {"zh": "违约金/赔偿为损失的 {times} 倍，超过实际损失（超出 30% 可请求法院调减）。",
                                            "en": "The penalty is {times} times the loss, more than the actual loss."},
    "contract.rule.deposit_forfeit": {"zh": "押金/保证金不予退还（被没收），付款方可能损失全部押金。",
                                      "en": "The deposit is not returned (forfeited): the payer may lose all of it."},
    "contract.rule.termination_without_notice": {"zh": "{who}可不经通知解除或终止合同。",
                                                 "en": "The {who} may end the contract without notice."},
    "contract.rule.unilateral_determination": {
        "zh": "{who}可单方决定金额、期限或是否违约，{other}无从核对。",
        "en": "The {who} alone decides an amount, a deadline or whether there was a breach; the {other} cannot check it."},
    "contract.rule.termination_imbalance": {
        "zh": "提前解约责任不对等：{heavy} 提前解约约需承担 {heavy_months} 个月租金，{light} 仅约 {light_months} 个月。",
        "en": "Early termination is one-sided: {heavy} pays about {heavy_months} months' rent to leave early, "
              "{light} only about {light_months}.",
    },
    # Wording suggested by the rules (used when the model gave none)
    "contract.suggest.late_fee": {
        "zh": "承租方逾期支付的，每逾期一日按欠付金额的万分之五支付违约金，累计不超过欠付金额的百分之二十。",
        "en": "Late payments bear a fee of 0.05% of the overdue amount per day, capped at 20% of that amount."},
    "contract.suggest.penalty": {
        "zh": "任何一方提前解除合同的，应提前30日书面通知对方，并向对方支付相当于一个月租金的违约金；押金按约定退还。",
        "en": "Either party may end the lease early on 30 days' written notice and a fee of one month's rent; "
              "the deposit is returned as agreed."},
    "contract.suggest.deposit_return": {
        "zh": "租赁期满或合同解除后，出租方应在房屋交还之日起7日内退还押金；扣除款项须列明项目并提供凭证。",
        "en": "The deposit is returned within 7 days after hand-back; any deduction is itemised with receipts."},
    "contract.suggest.deposit_deduction": {
        "zh": "押金仅可用于抵扣承租方欠付的租金、费用及经双方确认的非正常损耗维修费，扣除须列明项目并提供凭证。",
        "en": "The deposit may only cover unpaid rent and charges and agreed damage beyond fair wear, itemised with receipts."},
    "contract.suggest.short_notice": {
        "zh": "一方提前解除合同或调整租金的，应至少提前30日书面通知对方，并按约定承担违约责任。",
        "en": "Ending the contract or changing the rent requires at least 30 days' written notice and the agreed "
              "liability for breach."},
    "contract.suggest.unilateral_change": {
        "zh": "租赁期内租金不作调整；续租时租金由双方协商确定。",
        "en": "The rent is fixed for the term; any change on renewal is agreed by both parties."},
    "contract.suggest.deemed_breach": {
        "zh": "承租方不同意调整的，按原合同继续履行。",
        "en": "If the tenant does not agree to a change, the contract continues on its original terms."},
    "contract.suggest.entry_without_notice": {
        "zh": "出租方需进入房屋的，应提前24小时通知承租方并经其同意，紧急情况除外。",
        "en": "The landlord may enter only after 24 hours' notice and with the tenant's consent, except in emergencies."},
    "contract.suggest.all_repairs": {
        "zh": "房屋及附属设施的自然损耗和非承租方原因造成的损坏，由出租方负责维修并承担费用；承租方使用不当造成的损坏由承租方承担。",
        "en": "The landlord repairs wear and tear and damage not caused by the tenant at its cost; the tenant pays "
              "for damage it causes."},
    "contract.suggest.deposit_forfeit": {
        "zh": "押金在合同终止、房屋交还后7日内退还，仅可抵扣经双方确认的欠款和损失。",
        "en": "The deposit is returned within 7 days after the contract ends, less only agreed debts and damage."},
    "contract.suggest.penalty_multiple": {
        "zh": "违约方应向守约方支付相当于一个月租金的违约金；违约金不足以弥补实际损失的，按实际损失赔偿。",
        "en": "The party in breach pays a penalty of one month's rent, or the actual loss where that is higher."},
    "contract.suggest.penalty_loss_multiple": {
        "zh": "违约方按守约方的实际损失予以赔偿，违约金不超过实际损失的百分之三十。",
        "en": "The party in breach compensates the actual loss; any penalty does not exceed it by more than 30%."},
    "contract.suggest.termination_without_notice": {
        "zh": "任何一方解除合同，均应提前30日书面通知对方，并说明理由。",
        "en": "Either party ends the contract only on 30 days' written notice with reasons."},
    "contract.suggest.unilateral_determination": {
        "zh": "相关金额、期限及是否违约由双方根据书面凭证共同确认；协商不成的，按争议解决条款处理。",
        "en": "Amounts, deadlines and any breach are agreed by both parties on written evidence; otherwise the "
              "dispute clause applies."},
    "contract.suggest.no_refund": {
        "zh": "因出租方原因导致合同提前终止的，已收取的费用应按未履行期限比例退还。",
        "en": "If the contract ends early for the landlord's reasons, fees paid are refunded pro rata."},
    "contract.suggest.dispose_belongings": {
        "zh": "承租方逾期未搬离的，出租方应书面催告并给予合理期限，逾期后方可依法处理遗留物品。",
        "en": "If the tenant has not moved out, the landlord gives written notice and a reasonable period before "
              "lawfully dealing with items left behind."},
    "contract.suggest.total_exemption": {
        "zh": "因不可抗力导致合同无法履行的，双方互不承担违约责任，出租方应退还未使用期间的租金和全部押金。",
        "en": "Neither party is liable for force majeure; the landlord refunds unused rent and the full deposit."},
    "contract.suggest.home_court": {
        "zh": "争议提交房屋所在地人民法院诉讼解决。",
        "en": "Disputes go to the court where the property is located."},
    # Missing-clause checklist
    "contract.item.rent": {"zh": "租金及支付方式", "en": "Rent and how it is paid"},
    "contract.item.term": {"zh": "期限", "en": "Term"},
    "contract.item.deposit": {"zh": "押金条款", "en": "Deposit"},
    "contract.item.handover_inventory": {"zh": "房屋交付时的设施清单与状态确认", "en": "Inventory and condition of the premises at hand-over"},
    "contract.item.landlord_repair": {"zh": "出租人的维修义务与响应时限", "en": "Landlord's duty to repair, with response times"},
    "contract.item.title_proof": {"zh": "房屋所有权证明或出租人有权出租（转租）的证明",
                                  "en": "Proof that the lessor owns the property or may let (sublet) it"},
    "contract.item.deposit_return": {"zh": "押金退还的条件与期限", "en": "When and how the deposit is returned"},
    "contract.item.breach": {"zh": "违约责任", "en": "Liability for breach"},
    "contract.item.termination": {"zh": "合同解除与终止", "en": "Termination"},
    "contract.item.disputes": {"zh": "争议解决（管辖/仲裁）", "en": "Dispute resolution (court / arbitration, governing law)"},
    "contract.item.job_and_place": {"zh": "工作内容和工作地点", "en": "Job duties and place of work"},
    "contract.item.working_hours": {"zh": "工作时间和休息休假", "en": "Working hours, rest and leave"},
    "contract.item.pay": {"zh": "劳动报酬", "en": "Pay"},
    "contract.item.social_insurance": {"zh": "社会保险", "en": "Social insurance"},
    "contract.item.protection": {"zh": "劳动保护、劳动条件和职业危害防护", "en": "Safety, working conditions, occupational hazards"},
    "contract.item.goods": {"zh": "标的物名称、规格型号", "en": "Goods: name, specification"},
    "contract.item.quantity_price": {"zh": "数量与价款", "en": "Quantity and price"},
    "contract.item.quality": {"zh": "质量标准", "en": "Quality standard"},
    "contract.item.delivery": {"zh": "交付时间、地点和方式", "en": "Delivery: time, place, method"},
    "contract.item.acceptance": {"zh": "验收（检验）标准与期限", "en": "Inspection and acceptance"},
    "contract.item.risk_title": {"zh": "风险与所有权转移", "en": "Passing of risk and title"},
    "contract.item.warranty": {"zh": "质保与售后", "en": "Warranty and after-sales service"},
    "contract.item.scope": {"zh": "服务内容与范围", "en": "Scope of services"},
    "contract.item.standard_acceptance": {"zh": "服务标准与验收", "en": "Service standard and acceptance"},
    "contract.item.fees": {"zh": "费用与支付", "en": "Fees and payment"},
    "contract.item.ip": {"zh": "知识产权归属", "en": "Ownership of intellectual property"},
    "contract.item.confidentiality": {"zh": "保密义务", "en": "Confidentiality"},
    "contract.item.liability_cap": {"zh": "责任限额", "en": "Cap on liability"},
    "contract.item.definition": {"zh": "保密信息的定义", "en": "Definition of confidential information"},
    "contract.item.exclusions": {"zh": "保密义务的除外情形", "en": "Exclusions from confidentiality"},
    "contract.item.purpose": {"zh": "使用目的限制", "en": "Permitted purpose"},
    "contract.item.duration": {"zh": "保密期限", "en": "Duration of the obligation"},
    "contract.item.return_destroy": {"zh": "资料返还或销毁", "en": "Return or destruction of materials"},
    "contract.item.legal_disclosure": {"zh": "依法披露的处理", "en": "Disclosure required by law"},
    "contract.item.remedies": {"zh": "违约救济", "en": "Remedies for breach"},
    "contract.item.parties": {"zh": "当事人信息", "en": "The parties"},
    "contract.item.subject": {"zh": "合同标的", "en": "Subject matter"},
    "contract.item.price": {"zh": "价款或报酬", "en": "Price or consideration"},
    "contract.item.notices": {"zh": "通知与送达", "en": "Notices"},
    # Errors
    "contract.error.empty": {"zh": "文件 {file} 中没有可审查的文字。", "en": "The file {file} has no text to review."},
    "contract.error.bad_party": {"zh": "未知的身份「{party}」，可选：{choices}", "en": "Unknown side '{party}'. Choices: {choices}"},
    "contract.error.bad_type": {"zh": "未知的合同类型「{kind}」，可选：{choices}", "en": "Unknown contract type '{kind}'. Choices: {choices}"},
    "contract.error.missing_file": {"zh": "找不到文件 {file}。", "en": "File not found: {file}"},
    # Report
    "contract.report.title": {"zh": "合同审查报告：{file}", "en": "Contract review: {file}"},
    "contract.report.meta": {"zh": "审查立场：{side}；合同类型：{kind}", "en": "Reviewed for: {side}; contract type: {kind}"},
    "contract.report.summary": {"zh": "概览", "en": "Summary"},
    "contract.report.by_risk": {"zh": "按风险：高 {high}，中 {medium}，低 {low}，未评估 {none}",
                                "en": "By risk: high {high}, medium {medium}, low {low}, not assessed {none}"},
    "contract.report.by_favours": {"zh": "按偏向：{parts}", "en": "By favoured party: {parts}"},
    "contract.report.clauses": {"zh": "逐条分析", "en": "Clause by clause"},
    "contract.report.disclaimer": {"zh": "本报告由软件自动生成，仅供参考，不构成法律意见。",
                                   "en": "Generated automatically; for reference only, not legal advice."},
}

i18n.register(MESSAGES)
