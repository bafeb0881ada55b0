"""Hand-written name lists for generated people and places (no external data, no faker).

The lists mix the names a US public school actually enrols: Anglo, Hispanic/Latino, African
American, West African, East and South Asian, Middle Eastern, Eastern European, Caribbean.
Picks are uniform, so every name is equally likely; the combinations are what make a roster
look real.
"""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    """Whitespace-separated words, first occurrence wins (keeps the lists easy to edit)."""
    return tuple(dict.fromkeys(text.split()))


FIRST_NAMES: tuple[str, ...] = _words(
    """
    Olivia Emma Charlotte Amelia Ava Sophia Isabella Mia Evelyn Harper Abigail Emily Ella
    Elizabeth Avery Scarlett Grace Chloe Lily Hannah Zoey Nora Riley Madison Layla Aubrey
    Brooklyn Claire Paisley Audrey Skylar Violet Stella Hazel Aurora Lucy Liam Noah Oliver
    Elijah James William Benjamin Lucas Henry Theodore Jack Levi Alexander Jackson Mason Michael
    Ethan Daniel Jacob Logan Owen Samuel Wyatt Carter Julian Grayson Hudson Ryan Nathan Caleb
    Isaac Connor Hunter Eli Aaron Colton Miles Parker Jordan Taylor Quinn Rowan Emerson Finley
    Reese Sawyer Sofia Valentina Camila Ximena Lucia Valeria Daniela Mariana Gabriela Renata
    Natalia Adriana Paola Guadalupe Alejandra Itzel Mateo Santiago Diego Sebastian Leonardo
    Emiliano Joaquin Alejandro Carlos Miguel Angel Jose Luis Javier Adrian Rafael Andres
    Fernando Ivan Marco Tomas Cristian Eduardo Jesus Aaliyah Imani Jada Kiara Nia Zaria Destiny
    Jasmine Aniyah Kennedy Trinity Makayla Janelle Tiana Amari Jalen Malik DeShawn Jamal Darius
    Marcus Terrell Xavier Isaiah Andre Khalil Jaylen Dante Trevon Kendrick Cameron Jermaine
    Tyrese Amara Chiamaka Adaeze Ngozi Folake Ayodele Abena Efua Nkechi Chidi Emeka Obinna Kwame
    Kofi Tunde Oluwaseun Babajide Yaw Abdi Hodan Ayan Hamza Fatuma Tesfaye Selam Dawit Mei Ling
    Xiaoyu Yuna Hana Sakura Aiko Minji Seoyeon Jiwoo Linh Thao Anh Mai Ngoc Kim Wei Jun Hao Chen
    Haruto Kenji Takumi Minjun Jihoon Hyun Duc Minh Bao Khang Tuan Nam Ryo Kai Aanya Diya Ananya
    Priya Saanvi Isha Kavya Meera Riya Aditi Arjun Aarav Vihaan Rohan Ishaan Dev Kabir Aditya
    Rahul Nikhil Sanjay Vikram Ayaan Zain Yasmin Noor Mariam Fatima Aisha Salma Leila Rania Huda
    Omar Yusuf Ali Ahmed Karim Tariq Sami Rami Hassan Idris Bilal Amir Khaled Anastasia Sofiya
    Katya Milena Zofia Alina Daria Elena Irina Nikolai Dmitri Mikhail Pavel Oskar Luka Matej
    Andrei Stefan Aleksander Filip Ivana Petra Marisol Yanelis Dayana Anaya Kalani Leilani Keanu
    Makoa Nayeli Tala Koa Winona Dakota Cheyenne
    """
)

LAST_NAMES: tuple[str, ...] = _words(
    """
    Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Thomas Taylor Moore Jackson
    Martin Lee Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott
    Hill Green Adams Baker Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker Evans
    Edwards Collins Stewart Morris Murphy Cook Rogers Morgan Cooper Peterson Bailey Reed Kelly
    Howard Cox Ward Richardson Watson Brooks Wood James Bennett Gray Hughes Price Sanders Myers
    Long Ross Foster Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes
    Fisher Hayes Graham Wallace Woods Cole West Jordan Owens Reynolds Ellis Harrison Gibson
    McDonald Marshall O'Brien O'Connor Murray Fitzgerald Kowalski Novak Schmidt Mueller Becker
    Hoffman Schneider Weber Larsen Johansson Lindqvist Rossi Russo Romano Esposito Ricci Costa
    Moretti Greco Garcia Rodriguez Martinez Hernandez Lopez Gonzalez Perez Sanchez Ramirez
    Torres Flores Rivera Gomez Diaz Reyes Morales Cruz Ortiz Gutierrez Chavez Ramos Ruiz Alvarez
    Mendoza Castillo Jimenez Vasquez Romero Herrera Medina Aguilar Vargas Castro Guzman Salazar
    Delgado Soto Contreras Espinoza Navarro Fuentes Cabrera Dominguez Estrada Valdez Figueroa
    Montoya Acosta Zamora Washington Jefferson Freeman Simmons Banks Gaines Battle Mosley Dixon
    Holloway Pierre Baptiste Joseph Charles Toussaint Desir Okafor Okonkwo Adeyemi Oyelaran
    Mensah Boateng Asante Owusu Nwosu Eze Abdullahi Diallo Traore Keita Ndiaye Mwangi Otieno
    Kamau Tesfaye Haile Abdi Warsame Hassan Nguyen Tran Le Pham Hoang Vu Dang Bui Do Huynh Chen
    Wang Li Zhang Liu Yang Huang Zhao Wu Zhou Xu Lin Chang Wong Kim Park Choi Jung Kang Cho Yoon
    Tanaka Suzuki Takahashi Watanabe Yamamoto Nakamura Sato Santos Bautista Villanueva Aquino
    Patel Shah Singh Kumar Sharma Gupta Reddy Rao Iyer Nair Das Chowdhury Rahman Hossain Khan
    Malik Qureshi Mehta Desai Joshi Kapoor Banerjee Pillai Natarajan Haddad Khoury Nassar Saleh
    Mansour Aziz Farah Hamdan Ibrahim Youssef Karimi Hosseini Rahimi Amini Yilmaz Demir Kaya
    Ivanov Petrov Smirnov Popov Kuznetsov Sokolov Nowak Wisniewski Wojcik Horvat Kovac Popescu
    Dimitrov Shevchenko Bondarenko Begay Yazzie Tsosie Benally Kahale Kealoha Fonoti Tupou
    """
)

# Staff of the office (the school scale's usernames are derived from these: nurse.rivera …).
SCHOOL_STAFF: tuple[tuple[str, str, str], ...] = (
    ("Maria", "Rivera", "NURSE"),
    ("David", "Chen", "NURSE"),
    ("Grace", "Okafor", "LEAD_NURSE"),
)

PRESCRIBERS: dict[str, tuple[str, ...]] = {
    "general": (
        "Dr. Priya Natarajan, MD",
        "Dr. Samuel Whitfield, MD",
        "Dr. Ana Lucia Ortega, MD",
        "Dr. Kwame Mensah, MD",
        "Dr. Rachel Goldberg, DO",
        "Jennifer Park, CPNP",
        "Dr. Thomas Nguyen, MD",
        "Lauren Mitchell, PA-C",
        "Dr. Fatima Rahman, MD",
        "Dr. Michael O'Connor, MD",
    ),
    "adhd": (
        "Dr. Elena Petrova, MD (Developmental Pediatrics)",
        "Dr. Marcus Bell, MD (Child Psychiatry)",
        "Sarah Kim, PMHNP",
        "Dr. Rajesh Iyer, MD",
    ),
    "diabetes": (
        "Dr. Helen Marsh, MD (Pediatric Endocrinology)",
        "Dr. Omar Haddad, MD (Pediatric Endocrinology)",
        "Claire Dubois, CPNP (Diabetes Center)",
    ),
    "seizure": (
        "Dr. Benjamin Adler, MD (Pediatric Neurology)",
        "Dr. Yuki Tanaka, MD (Pediatric Neurology)",
    ),
    "allergy": (
        "Dr. Nadia Hassan, MD (Allergy & Immunology)",
        "Dr. Peter Lindqvist, MD (Allergy & Immunology)",
    ),
    "psych": (
        "Dr. Marcus Bell, MD (Child Psychiatry)",
        "Sarah Kim, PMHNP",
        "Dr. Gabriela Reyes, MD (Adolescent Psychiatry)",
    ),
}

# District scale: names of schools (a level suffix is added).
SCHOOL_NAMES: tuple[str, ...] = tuple(
    name.strip()
    for name in """
    Washington, Lincoln, Jefferson, Roosevelt, Franklin, Hamilton, Madison, Riverside, Lakeview,
    Hillcrest, Oak Grove, Maple Ridge, Cedar Park, Pine Hollow, Willow Creek, Sunnyside,
    Meadowbrook, Fairview, Brookside, Harbor View, Eastwood, Westfield, Northgate, Southridge,
    Greenfield, King, Parks, Tubman, Chavez, Earhart, Carver, Douglass, Curie, Sotomayor, Ochoa,
    Kennedy, Marshall, Mandela, Ride, Hopper, Lovelace, Johnson, Bethune, Hawking, Yamasaki
    """.split(",")
)
