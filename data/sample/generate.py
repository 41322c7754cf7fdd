#!/usr/bin/env python3
"""Writes the bundled sample datasets (what `fta train` uses with no arguments).

Short, checkable instruction pairs in English and Chinese that a tiny model can memorise:
arithmetic (computed here, so the answers are right), word translations, capitals, simple facts,
days of the week and greetings. Deterministic: running it again writes the same files.

  alpaca_en.jsonl       Alpaca rows (instruction, input, output[, system])
  alpaca_zh.jsonl       the same kinds of rows in Chinese
  sharegpt_chat.jsonl   ShareGPT multi-turn conversations (from/value)
  dataset_info.json     LLaMA-Factory style descriptions of the three files

Run: python3 data/sample/generate.py
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

# (English, Chinese) pairs: common words with one standard translation each.
WORDS = [
    ("cat", "猫"), ("dog", "狗"), ("bird", "鸟"), ("fish", "鱼"), ("horse", "马"),
    ("apple", "苹果"), ("water", "水"), ("tea", "茶"), ("book", "书"), ("school", "学校"),
    ("friend", "朋友"), ("sun", "太阳"), ("moon", "月亮"), ("mother", "母亲"), ("father", "父亲"),
    ("red", "红色"), ("blue", "蓝色"), ("green", "绿色"), ("yellow", "黄色"), ("black", "黑色"),
    ("white", "白色"), ("one", "一"), ("two", "二"), ("three", "三"), ("ten", "十"),
    ("hello", "你好"), ("thank you", "谢谢"), ("teacher", "老师"), ("student", "学生"), ("car", "汽车"),
]

# (country EN, capital EN, country ZH, capital ZH)
CAPITALS = [
    ("France", "Paris", "法国", "巴黎"), ("Japan", "Tokyo", "日本", "东京"), ("China", "Beijing", "中国", "北京"),
    ("Germany", "Berlin", "德国", "柏林"), ("Italy", "Rome", "意大利", "罗马"), ("the United Kingdom", "London", "英国", "伦敦"),
    ("Spain", "Madrid", "西班牙", "马德里"), ("Russia", "Moscow", "俄罗斯", "莫斯科"), ("Canada", "Ottawa", "加拿大", "渥太华"),
    ("Australia", "Canberra", "澳大利亚", "堪培拉"), ("Egypt", "Cairo", "埃及", "开罗"), ("South Korea", "Seoul", "韩国", "首尔"),
    ("India", "New Delhi", "印度", "新德里"), ("Thailand", "Bangkok", "泰国", "曼谷"), ("Mexico", "Mexico City", "墨西哥", "墨西哥城"),
]

# Short sentences, each with one natural translation.
PHRASES = [
    ("Good morning.", "早上好。"), ("How are you?", "你好吗？"), ("I love you.", "我爱你。"),
    ("See you tomorrow.", "明天见。"), ("What is your name?", "你叫什么名字？"), ("I am a student.", "我是学生。"),
    ("The weather is nice today.", "今天天气很好。"), ("I like tea.", "我喜欢喝茶。"),
]

DAYS_EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
DAYS_ZH = ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"]

FACTS_EN = [
    ("How many days are in a week?", "There are 7 days in a week."),
    ("How many months are in a year?", "There are 12 months in a year."),
    ("How many hours are in a day?", "There are 24 hours in a day."),
    ("How many minutes are in an hour?", "There are 60 minutes in an hour."),
    ("How many seconds are in a minute?", "There are 60 seconds in a minute."),
    ("At what temperature does water boil at sea level, in degrees Celsius?", "Water boils at 100 degrees Celsius at sea level."),
    ("At what temperature does water freeze, in degrees Celsius?", "Water freezes at 0 degrees Celsius."),
    ("How many legs does a spider have?", "A spider has 8 legs."),
    ("How many continents are there?", "There are 7 continents."),
    ("What is the largest planet in the solar system?", "Jupiter is the largest planet in the solar system."),
]
FACTS_ZH = [
    ("一个星期有几天？", "一个星期有7天。"),
    ("一年有几个月？", "一年有12个月。"),
    ("一天有多少个小时？", "一天有24个小时。"),
    ("一个小时有多少分钟？", "一个小时有60分钟。"),
    ("一分钟有多少秒？", "一分钟有60秒。"),
    ("在海平面上，水在多少摄氏度沸腾？", "在海平面上，水在100摄氏度沸腾。"),
    ("水在多少摄氏度结冰？", "水在0摄氏度结冰。"),
    ("蜘蛛有几条腿？", "蜘蛛有8条腿。"),
    ("世界上有几个大洲？", "世界上有7个大洲。"),
    ("太阳系中最大的行星是哪一颗？", "太阳系中最大的行星是木星。"),
]

GREETINGS_EN = [
    ("Hello!", "Hello! How can I help you today?"),
    ("Hi there.", "Hi! What can I do for you?"),
    ("Good morning!", "Good morning! I hope you have a great day."),
    ("Good night.", "Good night! Sleep well."),
    ("Thank you!", "You're welcome!"),
    ("Who are you?", "I am a small assistant model fine-tuned with FineTuneAgent."),
]
GREETINGS_ZH = [
    ("你好！", "你好！有什么可以帮你的吗？"),
    ("早上好！", "早上好！祝你今天愉快。"),
    ("晚安。", "晚安！祝你好梦。"),
    ("谢谢你！", "不客气！"),
    ("你是谁？", "我是一个用 FineTuneAgent 微调的小型助手模型。"),
]


def row(instruction, output, input_="", system=None):
    r = {"instruction": instruction, "input": input_, "output": output}
    if system is not None:
        r["system"] = system
    return r


def alpaca_en():
    rows = []
    for a in range(2, 12):
        for b in (3, 7, 9):
            rows.append(row(f"What is {a} + {b}?", f"{a} + {b} = {a + b}."))
    for a in range(2, 10):
        for b in (4, 6):
            rows.append(row(f"What is {a} times {b}?", f"{a} × {b} = {a * b}."))
    for a, b in [(20, 5), (15, 8), (30, 12), (100, 1), (9, 9), (50, 25)]:
        rows.append(row(f"What is {a} minus {b}?", f"{a} − {b} = {a - b}."))
    for en, zh in WORDS:
        rows.append(row("Translate the word into Chinese.", zh, en))
    for en, zh in PHRASES:
        rows.append(row("Translate the sentence into Chinese.", zh, en))
    for country, capital, _, _ in CAPITALS:
        rows.append(row(f"What is the capital of {country}?", f"The capital of {country} is {capital}."))
    for i, day in enumerate(DAYS_EN):
        rows.append(row(f"What day comes after {day}?", f"{DAYS_EN[(i + 1) % 7]} comes after {day}."))
    for q, a in FACTS_EN:
        rows.append(row(q, a))
    for q, a in GREETINGS_EN:
        rows.append(row(q, a, system="You are a friendly assistant."))
    return rows


def alpaca_zh():
    rows = []
    for a in range(2, 12):
        for b in (2, 5):
            rows.append(row(f"{a}加{b}等于多少？", f"{a}加{b}等于{a + b}。"))
    for a in range(2, 10):
        for b in (3, 4):
            rows.append(row(f"{a}乘以{b}等于多少？", f"{a}乘以{b}等于{a * b}。"))
    for en, zh in WORDS:
        rows.append(row("把这个词翻译成英文。", en, zh))
    for en, zh in PHRASES:
        rows.append(row("把这句话翻译成英文。", en, zh))
    for _, _, country, capital in CAPITALS:
        rows.append(row(f"{country}的首都是哪里？", f"{country}的首都是{capital}。"))
    for i, day in enumerate(DAYS_ZH):
        rows.append(row(f"{day}的后一天是星期几？", f"{day}的后一天是{DAYS_ZH[(i + 1) % 7]}。"))
    for q, a in FACTS_ZH:
        rows.append(row(q, a))
    for q, a in GREETINGS_ZH:
        rows.append(row(q, a, system="你是一个友好的助手。"))
    return rows


def sharegpt():
    convs = []
    for (greet_q, greet_a), (country, capital, _, _) in zip(GREETINGS_EN * 3, CAPITALS):
        convs.append({"conversations": [
            {"from": "human", "value": greet_q},
            {"from": "gpt", "value": greet_a},
            {"from": "human", "value": f"What is the capital of {country}?"},
            {"from": "gpt", "value": f"The capital of {country} is {capital}."},
        ]})
    for (greet_q, greet_a), (_, _, country, capital) in zip(GREETINGS_ZH * 3, CAPITALS):
        convs.append({"conversations": [
            {"from": "system", "value": "你是一个友好的助手。"},
            {"from": "human", "value": greet_q},
            {"from": "gpt", "value": greet_a},
            {"from": "human", "value": f"{country}的首都是哪里？"},
            {"from": "gpt", "value": f"{country}的首都是{capital}。"},
        ]})
    for a in range(3, 13):
        b = a + 4
        convs.append({"conversations": [
            {"from": "human", "value": f"What is {a} + {b}?"},
            {"from": "gpt", "value": f"{a} + {b} = {a + b}."},
            {"from": "human", "value": "And doubled?"},
            {"from": "gpt", "value": f"{a + b} × 2 = {(a + b) * 2}."},
        ]})
    return convs


def write_jsonl(name, rows):
    with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return len(rows)


def main():
    counts = {
        "alpaca_en.jsonl": write_jsonl("alpaca_en.jsonl", alpaca_en()),
        "alpaca_zh.jsonl": write_jsonl("alpaca_zh.jsonl", alpaca_zh()),
        "sharegpt_chat.jsonl": write_jsonl("sharegpt_chat.jsonl", sharegpt()),
    }
    info = {
        "sample_alpaca_en": {"file_name": "alpaca_en.jsonl"},
        "sample_alpaca_zh": {"file_name": "alpaca_zh.jsonl"},
        "sample_sharegpt": {"file_name": "sharegpt_chat.jsonl", "formatting": "sharegpt",
                            "columns": {"messages": "conversations"}},
    }
    with open(os.path.join(HERE, "dataset_info.json"), "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(info, ensure_ascii=False, indent=2) + "\n")
    for name, n in counts.items():
        print(f"{name}: {n} rows")


if __name__ == "__main__":
    main()
