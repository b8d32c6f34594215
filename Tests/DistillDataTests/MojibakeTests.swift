import Foundation
import Testing
@testable import DistillData

@Suite struct MojibakeTests {
    /// Every pair produced by Python's cp1252 codec is detected and repaired exactly.
    @Test func detectsAndRepairsPythonReferencePairs() throws {
        #expect(ReferenceFixtures.mojibake.count >= 6)
        for (broken, original) in ReferenceFixtures.mojibake {
            let finding = try #require(Mojibake.detect(broken), "not detected: \(original)")
            #expect(finding.repaired == original)
            #expect(Mojibake.repair(broken) == original)
        }
        let zh = try #require(Mojibake.detect("ä¸­æ–‡"))
        #expect(zh.sample == "ä¸­æ–‡")
        #expect(zh.repairedSample == "中文")
    }

    /// A real paragraph of Chinese, damaged the way seed 003 was, is caught and restored.
    @Test func realChineseParagraph() throws {
        let original = "数据蒸馏：让教师模型根据任务描述生成 JSON 格式的训练样本，每生成 10 条打印一次进度。"
        let broken = doubleEncode(original)
        #expect(broken != original)
        #expect(Mojibake.detect(broken)?.repaired == original)
        // Mixed with genuine Chinese on the same line, it is still found and only the damaged part changes.
        let mixed = "原文：" + broken
        #expect(Mojibake.detect(mixed)?.repaired == "原文：" + original)
    }

    /// A copy that lost bytes in the first bad save (shown as U+FFFD, like seed 003's repaired file) is still caught.
    @Test func partlyLostTextIsStillFlagged() throws {
        var scalars = Array(doubleEncode("模型蒸馏是一种把大模型的知识迁移到小模型的方法").unicodeScalars)
        scalars[7] = "\u{FFFD}"
        let damaged = String(String.UnicodeScalarView(scalars))
        let f = try #require(Mojibake.detect(damaged))
        #expect(f.repaired.contains("把大模型的知识迁移到小模型的方法"))
    }

    /// Ordinary text in many scripts, including Latin-1 letters and typographic punctuation, is left alone.
    @Test func ordinaryTextIsNotFlagged() {
        let clean = ["café", "naïve résumé", "Où est la gare ?", "don’t — “quoted” … €5", "Ich hätte gern Kaffee",
                     "中文 and café", "知识蒸馏 🙂👍🏽", "© 2024 · 10 °C ± 2", "¿Qué tal? ¡Hola!", "ÀÉÎÕÜ", "Ã", "plain ASCII",
                     "Σ αβγ — Ελληνικά", "Привет, мир", "深度学习ÿ",
                     "列夫·托尔斯泰", "他说：“你好”‘再见’", "NÃO SÃO", "Ça coûte 5 €", "50 µm × 2"]
        for text in clean { #expect(Mojibake.detect(text) == nil, "\(text)") }
    }
}
