"""Word lists the seeded data is drawn from: Russian names, items, phrases, places.

Kept apart from ``seed.py`` so that the generator reads as logic, not as a list of strings.
"""

FEMALE_FIRST = ["Анна", "Мария", "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Екатерина",
                "Светлана", "Юлия", "Дарья", "Ксения", "Алина", "Виктория", "Полина"]
MALE_FIRST = ["Иван", "Алексей", "Дмитрий", "Сергей", "Андрей", "Михаил", "Павел", "Николай",
              "Артём", "Максим", "Владимир", "Евгений", "Кирилл", "Роман", "Олег"]
# Surnames in their masculine form; the feminine one adds "а" (Смирнов -> Смирнова).
SURNAMES = ["Смирнов", "Иванов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов", "Новиков",
            "Морозов", "Петров", "Волков", "Соловьёв", "Васильев", "Зайцев", "Павлов", "Семёнов"]

ACCOUNT_NAME = "Магазин «Техно Плюс»"
AVITO_USER = (100000001, "Авито")

# (title, price in roubles or None for "price on request", category path, latin slug)
ITEMS = [
    ("iPhone 13 128 ГБ", 52000, "telefony", "iphone_13_128_gb"),
    ("Samsung Galaxy S21 8/256", 34990, "telefony", "samsung_galaxy_s21_8256"),
    ("MacBook Air 13 M1 2020", 61000, "noutbuki", "macbook_air_13_m1_2020"),
    ("Диван угловой раскладной", 18500, "mebel_i_interer", "divan_uglovoy_raskladnoy"),
    ("Велосипед горный Stels Navigator 700", 14000, "velosipedy", "velosiped_gornyy_stels_navigator_700"),
    ("Mazda 3 2008", 300000, "avtomobili", "mazda_3_2008"),
    ("Кроссовки Nike Air Max, 42 размер", 6500, "odezhda_obuv_aksessuary", "krossovki_nike_air_max_42"),
    ("Детская коляска 2 в 1 Tutis", 21000, "tovary_dlya_detey_i_igrushki", "detskaya_kolyaska_2_v_1_tutis"),
    ("Стиральная машина Bosch Serie 4", 23500, "bytovaya_tehnika", "stiralnaya_mashina_bosch_serie_4"),
    ("PlayStation 5 с дисководом", 45000, "igry_pristavki_i_programmy", "playstation_5_s_diskovodom"),
    ("Сдам 1-к квартиру, 38 м²", 35000, "kvartiry", "1-k_kvartira_38_m"),
    ("Шкаф-купе 180 см, белый", 9900, "mebel_i_interer", "shkaf-kupe_180_sm_belyy"),
    ("Электросамокат Xiaomi Mi Pro 2", 27000, "sport_i_otdyh", "elektrosamokat_xiaomi_mi_pro_2"),
    ("Кофемашина DeLonghi Magnifica S", 24000, "bytovaya_tehnika", "kofemashina_delonghi_magnifica_s"),
    ("Зимняя шина Nokian 205/55 R16, 4 шт", 16000, "zapchasti_i_aksessuary", "nokian_205_55_r16"),
    ("Ремонт квартир под ключ", None, "predlozheniya_uslug", "remont_kvartir_pod_klyuch"),
]

CITIES = ["moskva", "sankt-peterburg", "kazan", "ekaterinburg", "novosibirsk", "nizhniy_novgorod"]

CUSTOMER_OPENERS = ["Здравствуйте! Ещё актуально?", "Добрый день, торг возможен?",
                    "Здравствуйте, а доставка Авито есть?", "Добрый вечер! Можно посмотреть сегодня?",
                    "Привет! Скинете немного при самовывозе?", "Здравствуйте, в каком состоянии?"]
CUSTOMER_FOLLOWUPS = ["А чеки и коробка сохранились?", "Где можно забрать?", "Можно ещё фото?",
                      "Хорошо, давайте завтра в 18:00.", "А гарантия есть?", "Спасибо, подумаю.",
                      "Оплата картой при получении возможна?", "Договорились 👍", "Скиньте адрес, пожалуйста."]
SELLER_REPLIES = ["Здравствуйте! Да, актуально.", "Небольшой торг возможен при осмотре.",
                  "Да, отправлю Авито Доставкой в день оплаты.", "Состояние отличное, без царапин.",
                  "Забрать можно у метро в любой день после 17:00.", "Гарантия магазина 3 месяца.",
                  "Да, чек и коробка есть.", "Фото добавил в объявление."]
U2U_PHRASES = ["Здравствуйте! Видел ваш профиль, вы делаете доставку по городу?",
               "Добрый день, вы ещё занимаетесь ремонтом техники?", "Да, пишите, что нужно.",
               "Спасибо за покупку, оставьте, пожалуйста, отзыв 🙂", "Хорошо, сейчас оставлю."]
SYSTEM_FLOWS = [
    ("seller_audience_discount", "Покупатель добавил ваше объявление в избранное. Предложите ему скидку."),
    ("sbc_seller_notification", "Покупатель оформил доставку. Подготовьте заказ к отправке."),
    ("avito_support", "Здравствуйте! Ваше обращение в поддержку получено, мы ответим в течение суток."),
]
LOCATIONS = [
    (55.599799, 37.603954, "street", "Москва, Варшавское шоссе"),
    (59.934280, 30.335099, "house", "Санкт-Петербург, Невский проспект, 28"),
    (55.796127, 49.106405, "area", "Казань, Вахитовский район"),
]
LINKS = [
    ("habr.com", "https://habr.com/ru/", "Лучшие публикации за сутки / Хабр", "Лучшие публикации за последние 24 часа"),
    ("market.yandex.ru", "https://market.yandex.ru/", "Яндекс Маркет", "Покупки с доставкой"),
]
