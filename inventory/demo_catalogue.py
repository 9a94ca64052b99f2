"""The demo shop's catalogue: a Kenyan supermarket's shelves, with prices in KES (2025).

One line per product: "name | selling price | unit code | tax class (blank: the category's)".
Loose goods sold by weight have no maker's barcode; they get an in-store code (prefix 2).
"""

# (category, default tax class, supplier key, lines)
CATALOGUE = [
    (
        "Unga & Flour",
        "C",
        "kapa",
        """
        Jogoo Maize Meal 1kg | 95 | pc
        Jogoo Maize Meal 2kg | 185 | pc
        Pembe Maize Flour 2kg | 180 | pc
        Soko Maize Meal 2kg | 178 | pc
        Hostess Maize Meal 2kg | 175 | pc
        Ndovu Maize Meal 2kg | 176 | pc
        Dola Maize Meal 2kg | 182 | pc
        Jimbi Maize Meal 2kg | 170 | pc
        Soko Ugali Afya Whole Maize 2kg | 160 | pc
        Ajab Home Baking Flour 1kg | 105 | pc
        Ajab Home Baking Flour 2kg | 205 | pc
        Exe All Purpose Flour 2kg | 210 | pc
        Pembe Home Baking Flour 2kg | 200 | pc
        Jogoo Atta Mark 1 Flour 2kg | 215 | pc
        Dola Chapati Flour 2kg | 205 | pc
        Pembe Wholemeal Atta 2kg | 220 | pc
        Mwalimu Millet Flour 1kg | 180 | pc
        Mama Sorghum Flour 1kg | 150 | pc
        Nutri Wimbi Porridge Flour 1kg | 190 | pc
        Maize Flour loose | 75 | kg
    """,
    ),
    (
        "Rice, Grains & Pulses",
        "A",
        "twiga",
        """
        Daawat Basmati Rice 1kg | 320 | pc | B
        Daawat Basmati Rice 2kg | 620 | pc | B
        Mwea Pishori Rice 1kg | 220 | pc
        Mwea Pishori Rice 2kg | 430 | pc
        Sunrice Pishori Rice 2kg | 450 | pc
        Falcon Long Grain Rice 2kg | 300 | pc
        Pishori Rice loose | 200 | kg
        Sindano Rice loose | 160 | kg
        Green Grams Ndengu 1kg | 210 | pc
        Green Grams Ndengu loose | 190 | kg
        Rosecoco Beans 1kg | 180 | pc
        Rosecoco Beans loose | 170 | kg
        Yellow Beans Mayai 1kg | 200 | pc
        Njahi Black Beans 1kg | 260 | pc
        Red Lentils Kamande 500g | 150 | pc
        Brown Lentils 500g | 140 | pc
        Dried Peas Minji 500g | 110 | pc
        Popcorn Maize 500g | 90 | pc
        Githeri Mix 1kg | 150 | pc
        Santa Lucia Spaghetti 500g | 130 | pc | B
        Santa Lucia Macaroni 400g | 110 | pc | B
        Quaker Oats 500g | 280 | pc | B
        Quaker Oats 1kg | 520 | pc | B
    """,
    ),
    (
        "Sugar, Tea & Coffee",
        "B",
        "kapa",
        """
        Mumias Sugar 1kg | 170 | pc
        Mumias Sugar 2kg | 330 | pc
        Kabras Sugar 1kg | 165 | pc
        Kabras Sugar 2kg | 325 | pc
        Sony Sugar 1kg | 168 | pc
        Nzoia Sugar 2kg | 320 | pc
        Brown Sugar loose | 150 | kg
        Ketepa Pride Tea Leaves 250g | 150 | pc
        Ketepa Pride Tea Leaves 500g | 290 | pc
        Kericho Gold Tea Bags 50s | 170 | pc
        Kericho Gold Tea Bags 100s | 320 | pc
        Fahari ya Kenya Tea 500g | 260 | pc
        Ketepa Tangawizi Tea Bags 25s | 120 | pc
        Sasini Tea Leaves 250g | 140 | pc
        Nescafe Classic Coffee 50g | 390 | pc
        Nescafe Classic Coffee 100g | 730 | pc
        Nescafe Classic Coffee 200g | 1350 | pc
        Dormans Ground Coffee 250g | 650 | pc
        Java House Ground Coffee 250g | 780 | pc
        Cadbury Drinking Chocolate 250g | 420 | pc
        Milo Chocolate Malt 200g | 360 | pc
        Milo Chocolate Malt 400g | 690 | pc
        Chai Masala 50g | 95 | pc
    """,
    ),
    (
        "Cooking Oil & Fats",
        "B",
        "bidco",
        """
        Elianto Corn Oil 1L | 420 | pc
        Elianto Corn Oil 2L | 820 | pc
        Elianto Corn Oil 5L | 1950 | pc
        Golden Fry Cooking Oil 1L | 340 | pc
        Golden Fry Cooking Oil 3L | 990 | pc
        Golden Fry Cooking Oil 5L | 1600 | pc
        Rina Vegetable Oil 1L | 330 | pc
        Rina Vegetable Oil 5L | 1580 | pc
        Fresh Fri Vegetable Oil 1L | 345 | pc
        Fresh Fri Vegetable Oil 2L | 680 | pc
        Fresh Fri Vegetable Oil 5L | 1620 | pc
        Salit Cooking Oil 1L | 320 | pc
        Kimbo Cooking Fat 500g | 210 | pc
        Kimbo Cooking Fat 1kg | 410 | pc
        Kimbo Cooking Fat 2kg | 800 | pc
        Kasuku Cooking Fat 1kg | 380 | pc
        Kasuku Cooking Fat 2kg | 750 | pc
        Chipsy Cooking Fat 1kg | 390 | pc
        Blue Band Original 250g | 150 | pc
        Blue Band Original 500g | 290 | pc
        Blue Band Original 1kg | 560 | pc
        Prestige Margarine 500g | 260 | pc
        Bertolli Olive Oil 500ml | 950 | pc
    """,
    ),
    (
        "Dairy & Eggs",
        "B",
        "kapa",
        """
        Brookside Whole Milk 500ml | 65 | pc | C
        Brookside Whole Milk 1L | 130 | pc | C
        KCC Fresh Milk 500ml | 60 | pc | C
        Tuzo Whole Milk 500ml | 62 | pc | C
        Tuzo Whole Milk 1L | 125 | pc | C
        Fresha Fresh Milk 500ml | 60 | pc | C
        Brookside Long Life Milk 500ml | 75 | pc | C
        Brookside Mala 500ml | 90 | pc
        Brookside Strawberry Yoghurt 500ml | 180 | pc
        Daima Vanilla Yoghurt 250ml | 95 | pc
        Bio Natural Yoghurt 250ml | 120 | pc
        KCC Butter 250g | 380 | pc
        KCC Butter 500g | 740 | pc
        Brookside Ghee 500g | 690 | pc
        Brookside Cheddar Cheese 250g | 450 | pc
        Kenchic Eggs Tray of 30 | 480 | tray | A
        Kenchic Eggs single | 17 | pc | A
        Nido Full Cream Milk Powder 400g | 760 | pc
        Lato Milk Powder 500g | 490 | pc
    """,
    ),
    (
        "Bakery & Breakfast",
        "B",
        "kapa",
        """
        Festive White Bread 400g | 65 | pc | C
        Festive White Bread 600g | 90 | pc | C
        Supaloaf White Bread 400g | 65 | pc | C
        Supaloaf White Bread 600g | 90 | pc | C
        Broadways Brown Bread 400g | 70 | pc | C
        Festive Brown Bread 600g | 95 | pc | C
        Kenblest White Bread 400g | 62 | pc | C
        Mandazi pack of 6 | 60 | pk6
        Dinner Rolls pack of 6 | 80 | pk6
        Weetabix Cereal 215g | 210 | pc
        Weetabix Cereal 430g | 390 | pc
        Kelloggs Corn Flakes 500g | 620 | pc
        Nestle Cerelac Wheat 400g | 640 | pc
        Zesta Strawberry Jam 500g | 330 | pc
        Sunny Mixed Fruit Jam 400g | 290 | pc
        Zesta Peanut Butter 400g | 350 | pc
        Dormans Peanut Butter 400g | 420 | pc
        Asali Pure Honey 500g | 550 | pc
        Zesta Orange Marmalade 500g | 320 | pc
    """,
    ),
    (
        "Beverages",
        "B",
        "kapa",
        """
        Coca-Cola 500ml | 80 | pc
        Coca-Cola 1.25L | 140 | pc
        Coca-Cola 2L | 200 | pc
        Coca-Cola 300ml crate of 24 | 1100 | crt24
        Fanta Orange 500ml | 80 | pc
        Fanta Orange 2L | 200 | pc
        Fanta Passion 500ml | 80 | pc
        Sprite 500ml | 80 | pc
        Sprite 2L | 200 | pc
        Stoney Tangawizi 500ml | 80 | pc
        Krest Bitter Lemon 500ml | 80 | pc
        Novida Pineapple 500ml | 80 | pc
        Delmonte Mango Juice 1L | 290 | pc
        Minute Maid Apple 400ml | 120 | pc
        Afia Mango Juice 500ml | 95 | pc
        Afia Mango Juice 1.5L | 220 | pc
        Pick N Peel Mango Juice 1L | 280 | pc
        Ribena Blackcurrant 1L | 450 | pc
        Keringet Still Water 500ml | 60 | pc
        Keringet Still Water 1L | 90 | pc
        Keringet Still Water 5L | 250 | pc
        Keringet Water 500ml pack of 6 | 330 | pk6
        Dasani Water 500ml | 50 | pc
        Dasani Water 1L | 80 | pc
        Aquamist Water 1.5L | 90 | pc
        Red Bull Energy 250ml | 220 | pc
        Monster Energy 500ml | 280 | pc
        Predator Energy 400ml | 100 | pc
    """,
    ),
    (
        "Snacks & Sweets",
        "B",
        "kapa",
        """
        Tropical Heat Crisps Salted 100g | 120 | pc
        Tropical Heat Crisps Sour Cream 100g | 130 | pc
        Pringles Original 165g | 450 | pc
        Krackles Tomato 22g | 20 | pc
        Manji Digestive Biscuits 400g | 190 | pc
        Nuvita Digestive Biscuits 250g | 110 | pc
        Britannia Good Day Biscuits 100g | 70 | pc
        Tiffany Crunch Biscuits 100g | 65 | pc
        Cadbury Dairy Milk 35g | 120 | pc
        Cadbury Dairy Milk 80g | 250 | pc
        Nestle Kit Kat 4 Finger | 150 | pc
        Snickers Bar 50g | 140 | pc
        Orbit Spearmint Gum 10s | 60 | pc
        Patco Toffee Sweets 100g | 50 | pc
        Nuts Kenya Roasted Peanuts 100g | 90 | pc
        Nuts Kenya Cashew Nuts 200g | 450 | pc
        Sweet Popcorn 50g | 40 | pc
        Goodies Lollipops pack of 12 | 120 | pk12
    """,
    ),
    (
        "Fresh Produce",
        "A",
        "twiga",
        """
        Tomatoes | 120 | kg
        Red Onions | 110 | kg
        Potatoes Waru | 80 | kg
        Cabbage | 60 | pc
        Sukuma Wiki | 20 | bunch
        Spinach | 30 | bunch
        Carrots | 100 | kg
        Sweet Bananas | 10 | pc
        Green Bananas Matoke | 70 | kg
        Hass Avocado | 30 | pc
        Apple Mango | 50 | pc
        Oranges | 25 | pc
        Pineapple | 150 | pc
        Watermelon | 60 | kg
        Lemons | 10 | pc
        Garlic | 400 | kg
        Ginger Tangawizi | 300 | kg
        Dhania | 10 | bunch
        Green Pepper Pilipili Hoho | 200 | kg
        Passion Fruit | 200 | kg
        Sweet Potatoes | 90 | kg
        Arrow Roots Nduma | 150 | kg
    """,
    ),
    (
        "Butchery & Fish",
        "A",
        "twiga",
        """
        Beef with Bones | 650 | kg
        Beef Steak | 800 | kg
        Goat Meat | 850 | kg
        Minced Beef | 750 | kg
        Beef Liver | 600 | kg
        Kienyeji Chicken Whole | 1200 | pc
        Kenchic Whole Chicken 1.2kg | 720 | pc
        Kenchic Chicken Thighs 1kg | 780 | pc
        Tilapia Whole | 550 | kg
        Omena Dried | 400 | kg
        Farmers Choice Beef Sausages 500g | 420 | pc | B
        Farmers Choice Pork Sausages 500g | 450 | pc | B
        Farmers Choice Smokies 400g | 380 | pc | B
        Farmers Choice Bacon 200g | 460 | pc | B
    """,
    ),
    (
        "Household & Cleaning",
        "B",
        "bidco",
        """
        Omo Hand Wash Powder 500g | 180 | pc
        Omo Hand Wash Powder 1kg | 350 | pc
        Ariel Washing Powder 500g | 210 | pc
        Ariel Washing Powder 1kg | 400 | pc
        Kerosene Paraffin loose | 180 | l | E
        K-Gas LPG Refill 6kg | 1400 | pc | E
        K-Gas LPG Refill 13kg | 3000 | pc | E
        Toss Washing Powder 500g | 130 | pc
        Toss Washing Powder 1kg | 250 | pc
        Sunlight Washing Powder 1kg | 300 | pc
        Msafi Bar Soap 1kg | 260 | pc
        Menengai Bar Soap 1kg | 220 | pc
        White Star Bar Soap 800g | 200 | pc
        Sunlight Dishwashing Liquid 400ml | 180 | pc
        Sunlight Dishwashing Liquid 750ml | 310 | pc
        Jik Bleach 750ml | 190 | pc
        Jik Bleach 1.5L | 360 | pc
        Harpic Toilet Cleaner 500ml | 320 | pc
        Downy Fabric Softener 1L | 650 | pc
        Doom Insect Killer 300ml | 420 | pc
        Baygon Multi Insect Killer 300ml | 410 | pc
        Rosy Toilet Tissue (4 pack) | 180 | pc
        Velvex Toilet Tissue (10 pack) | 480 | pc
        Hanan Serviettes 100s | 110 | pc
        Kiwi Shoe Polish Black 40ml | 120 | pc
        Safari Matches 10 boxes | 60 | pc
        Kenya Candles pack of 6 | 120 | pk6
        Steel Wool Scourer | 50 | pc
        Soft Broom | 250 | pc
        Plastic Bucket 10L | 250 | pc
    """,
    ),
    (
        "Personal Care & Baby",
        "B",
        "bidco",
        """
        Colgate Toothpaste 70g | 140 | pc
        Colgate Toothpaste 140g | 260 | pc
        Close-Up Toothpaste 100ml | 170 | pc
        Whitedent Toothpaste 100g | 130 | pc
        Colgate Toothbrush Medium | 80 | pc
        Geisha Bathing Soap 250g | 110 | pc
        Imperial Leather Soap 175g | 140 | pc
        Dettol Original Soap 175g | 160 | pc
        Protex Herbal Soap 150g | 140 | pc
        Nivea Body Lotion 400ml | 650 | pc
        Vaseline Petroleum Jelly 100ml | 150 | pc
        Vaseline Petroleum Jelly 250ml | 330 | pc
        Arimis Milking Jelly 200ml | 200 | pc
        Sunsilk Shampoo 400ml | 450 | pc
        Gillette Blue II Razors 5 pack | 250 | pc
        Always Ultra Pads 8s | 150 | pc | A
        Softcare Pads 10s | 95 | pc | A
        Huggies Dry Comfort Size 3 50s | 1100 | pc
        Pampers Baby Dry Size 4 44s | 1990 | pc
        Softcare Diapers Medium 40s | 850 | pc
        Johnsons Baby Oil 200ml | 450 | pc
        Johnsons Baby Powder 200g | 350 | pc
        Dettol Antiseptic Liquid 250ml | 380 | pc
        Sure Roll-On 50ml | 290 | pc
        Nice and Lovely Lotion 400ml | 380 | pc
    """,
    ),
    (
        "Spices & Sauces",
        "B",
        "kapa",
        """
        Kensalt Iodised Salt 500g | 30 | pc
        Kensalt Iodised Salt 1kg | 55 | pc
        Royco Mchuzi Mix 75g | 50 | pc
        Royco Mchuzi Mix 200g | 120 | pc
        Royco Beef Cubes pack of 12 | 100 | pk12
        Tropical Heat Pilau Masala 50g | 80 | pc
        Tropical Heat Curry Powder 100g | 120 | pc
        Tropical Heat Black Pepper 50g | 150 | pc
        Peptang Tomato Ketchup 400g | 190 | pc
        Kitchen King Tomato Sauce 400g | 170 | pc
        Zesta Chilli Sauce 400g | 210 | pc
        Chapa Mandashi Baking Powder 100g | 85 | pc
        Angel Instant Yeast 100g | 140 | pc
        Ladys Choice Tomato Paste 70g | 40 | pc
    """,
    ),
]

FAVOURITES = {
    "Festive White Bread 400g",
    "Brookside Whole Milk 500ml",
    "Mumias Sugar 1kg",
    "Jogoo Maize Meal 2kg",
    "Coca-Cola 500ml",
    "Kenchic Eggs single",
    "Kimbo Cooking Fat 1kg",
    "Keringet Still Water 500ml",
    "Royco Mchuzi Mix 75g",
    "Sukuma Wiki",
    "Tomatoes",
    "Kensalt Iodised Salt 1kg",
}

UNITS = [
    ("Piece", "pc", 0),
    ("Kilogram", "kg", 3),
    ("Litre", "l", 3),
    ("Pack of 6", "pk6", 0),
    ("Pack of 12", "pk12", 0),
    ("Crate of 24", "crt24", 0),
    ("Tray of 30", "tray", 0),
    ("Bunch", "bunch", 0),
]

SUPPLIERS = {
    "kapa": {
        "name": "Kapa Wholesalers Ltd",
        "contact_person": "Wanjiru Kamau",
        "phone_number": "+254722410200",
        "email": "orders@kapa-wholesale.co.ke",
        "address": "Enterprise Road, Industrial Area, Nairobi",
        "kra_pin": "P051167382K",
    },
    "bidco": {
        "name": "Bidco Africa Ltd",
        "contact_person": "Peter Otieno",
        "phone_number": "+254733600900",
        "email": "trade@bidco-demo.co.ke",
        "address": "Thika Road, Ruiru",
        "kra_pin": "P000598721M",
    },
    "twiga": {
        "name": "Twiga Fresh Supplies",
        "contact_person": "Amina Hassan",
        "phone_number": "+254711309300",
        "email": "shops@twiga-demo.co.ke",
        "address": "Wakulima Market, Nairobi",
        "kra_pin": "P051839204T",
    },
}
