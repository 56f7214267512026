-- The shop's database: customers, the products it sells, their orders, and its employees.
-- Written for ftadvisor's Text-to-SQL example (bench/data/shop_sql); plain PostgreSQL.

CREATE TABLE customers (
    id integer PRIMARY KEY,
    name text NOT NULL,          -- full name, e.g. 'Ana Silva'
    city text NOT NULL,          -- e.g. 'Lisbon'
    country text NOT NULL,       -- e.g. 'Portugal'
    signup_year integer NOT NULL -- the year the customer signed up
);

CREATE TABLE products (
    id integer PRIMARY KEY,
    name text NOT NULL,          -- e.g. 'Steel Kettle'
    category text NOT NULL,      -- 'Kitchen', 'Garden', 'Office', 'Toys' or 'Sports'
    price numeric(8,2) NOT NULL, -- in euros
    stock integer NOT NULL       -- units in the warehouse
);

CREATE TABLE orders (
    id integer PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers (id),
    product_id integer NOT NULL REFERENCES products (id),
    quantity integer NOT NULL,
    order_date date NOT NULL,
    status text NOT NULL         -- 'pending', 'shipped', 'delivered' or 'cancelled'
);

CREATE TABLE employees (
    id integer PRIMARY KEY,
    name text NOT NULL,
    department text NOT NULL,    -- 'Sales', 'Support', 'Warehouse', 'Marketing' or 'IT'
    city text NOT NULL,
    salary integer NOT NULL,     -- yearly, in euros
    hire_year integer NOT NULL
);

INSERT INTO customers (id, name, city, country, signup_year) VALUES
    (1, 'Ana Silva', 'Lisbon', 'Portugal', 2019),
    (2, 'Bruno Costa', 'Porto', 'Portugal', 2020),
    (3, 'Carla Mendes', 'Lisbon', 'Portugal', 2021),
    (4, 'Diego Ruiz', 'Madrid', 'Spain', 2019),
    (5, 'Elena Garcia', 'Barcelona', 'Spain', 2022),
    (6, 'Fernando Lopez', 'Madrid', 'Spain', 2023),
    (7, 'Gabriel Martin', 'Valencia', 'Spain', 2021),
    (8, 'Helene Dubois', 'Paris', 'France', 2020),
    (9, 'Isabelle Moreau', 'Lyon', 'France', 2022),
    (10, 'Julien Bernard', 'Paris', 'France', 2023),
    (11, 'Karl Weber', 'Berlin', 'Germany', 2019),
    (12, 'Lena Fischer', 'Munich', 'Germany', 2021),
    (13, 'Markus Wagner', 'Berlin', 'Germany', 2022),
    (14, 'Nina Schulz', 'Hamburg', 'Germany', 2024),
    (15, 'Olivia Rossi', 'Milan', 'Italy', 2020),
    (16, 'Paolo Bianchi', 'Rome', 'Italy', 2021),
    (17, 'Giulia Romano', 'Milan', 'Italy', 2023),
    (18, 'Rui Almeida', 'Porto', 'Portugal', 2024),
    (19, 'Sofia Pereira', 'Lisbon', 'Portugal', 2022),
    (20, 'Tomas Navarro', 'Barcelona', 'Spain', 2020),
    (21, 'Ursula Klein', 'Munich', 'Germany', 2023),
    (22, 'Victor Petit', 'Lyon', 'France', 2019),
    (23, 'Wanda Nowak', 'Warsaw', 'Poland', 2021),
    (24, 'Xavier Roux', 'Paris', 'France', 2024),
    (25, 'Yara Santos', 'Porto', 'Portugal', 2023),
    (26, 'Zofia Kowalska', 'Krakow', 'Poland', 2022),
    (27, 'Adam Lewandowski', 'Warsaw', 'Poland', 2024),
    (28, 'Beatriz Ferreira', 'Lisbon', 'Portugal', 2024),
    (29, 'Chiara Greco', 'Rome', 'Italy', 2022),
    (30, 'David Moreno', 'Valencia', 'Spain', 2024);

INSERT INTO products (id, name, category, price, stock) VALUES
    (1, 'Steel Kettle', 'Kitchen', 34.90, 40),
    (2, 'Chef Knife', 'Kitchen', 59.00, 25),
    (3, 'Cast Iron Pan', 'Kitchen', 45.50, 18),
    (4, 'Coffee Grinder', 'Kitchen', 79.99, 12),
    (5, 'Garden Hose', 'Garden', 24.50, 60),
    (6, 'Pruning Shears', 'Garden', 19.90, 35),
    (7, 'Watering Can', 'Garden', 14.00, 50),
    (8, 'Lawn Mower', 'Garden', 249.00, 6),
    (9, 'Desk Lamp', 'Office', 29.99, 45),
    (10, 'Office Chair', 'Office', 189.00, 10),
    (11, 'Notebook Pack', 'Office', 8.50, 200),
    (12, 'Standing Desk', 'Office', 399.00, 4),
    (13, 'Puzzle Box', 'Toys', 22.00, 30),
    (14, 'Wooden Train', 'Toys', 39.50, 15),
    (15, 'Kite', 'Toys', 17.25, 0),
    (16, 'Board Game', 'Toys', 34.00, 22),
    (17, 'Yoga Mat', 'Sports', 27.00, 38),
    (18, 'Tennis Racket', 'Sports', 89.00, 9),
    (19, 'Football', 'Sports', 25.00, 0),
    (20, 'Water Bottle', 'Sports', 12.90, 120);

INSERT INTO employees (id, name, department, city, salary, hire_year) VALUES
    (1, 'Marta Oliveira', 'Sales', 'Lisbon', 32000, 2018),
    (2, 'Pedro Sousa', 'Sales', 'Porto', 30500, 2020),
    (3, 'Laura Jimenez', 'Support', 'Madrid', 28000, 2021),
    (4, 'Hugo Laurent', 'Support', 'Paris', 33500, 2019),
    (5, 'Anke Braun', 'Warehouse', 'Berlin', 29000, 2017),
    (6, 'Stefan Hoffmann', 'Warehouse', 'Berlin', 27500, 2022),
    (7, 'Marco Ricci', 'Sales', 'Milan', 36000, 2016),
    (8, 'Ines Carvalho', 'Marketing', 'Lisbon', 41000, 2019),
    (9, 'Claire Fontaine', 'Marketing', 'Paris', 43500, 2021),
    (10, 'Jan Kowalski', 'Warehouse', 'Warsaw', 24000, 2023),
    (11, 'Lucia Torres', 'Support', 'Madrid', 27000, 2023),
    (12, 'Felix Neumann', 'IT', 'Berlin', 52000, 2018),
    (13, 'Sara Conti', 'IT', 'Milan', 48000, 2022),
    (14, 'Nuno Rocha', 'Sales', 'Lisbon', 31000, 2024);

INSERT INTO orders (id, customer_id, product_id, quantity, order_date, status) VALUES
    (1, 11, 20, 1, DATE '2022-01-19', 'delivered'),
    (2, 16, 19, 5, DATE '2022-02-09', 'shipped'),
    (3, 11, 5, 4, DATE '2022-02-27', 'pending'),
    (4, 5, 13, 3, DATE '2022-03-01', 'delivered'),
    (5, 4, 6, 2, DATE '2022-03-07', 'delivered'),
    (6, 2, 19, 4, DATE '2022-04-02', 'pending'),
    (7, 26, 6, 4, DATE '2022-05-01', 'cancelled'),
    (8, 6, 9, 3, DATE '2022-05-02', 'delivered'),
    (9, 28, 4, 5, DATE '2022-06-18', 'shipped'),
    (10, 13, 13, 4, DATE '2022-08-21', 'shipped'),
    (11, 30, 9, 1, DATE '2022-09-23', 'delivered'),
    (12, 19, 10, 1, DATE '2022-10-19', 'cancelled'),
    (13, 10, 3, 1, DATE '2022-12-11', 'delivered'),
    (14, 21, 9, 4, DATE '2023-01-03', 'cancelled'),
    (15, 24, 6, 1, DATE '2023-01-05', 'pending'),
    (16, 11, 9, 4, DATE '2023-01-24', 'delivered'),
    (17, 30, 17, 5, DATE '2023-02-09', 'delivered'),
    (18, 14, 14, 1, DATE '2023-02-18', 'shipped'),
    (19, 14, 7, 3, DATE '2023-02-24', 'delivered'),
    (20, 8, 5, 1, DATE '2023-03-08', 'cancelled'),
    (21, 10, 4, 1, DATE '2023-03-09', 'delivered'),
    (22, 17, 14, 1, DATE '2023-03-16', 'shipped'),
    (23, 26, 4, 1, DATE '2023-04-09', 'delivered'),
    (24, 26, 8, 4, DATE '2023-04-17', 'shipped'),
    (25, 23, 7, 2, DATE '2023-04-27', 'cancelled'),
    (26, 29, 4, 1, DATE '2023-05-02', 'delivered'),
    (27, 15, 19, 5, DATE '2023-05-08', 'delivered'),
    (28, 20, 13, 1, DATE '2023-06-20', 'delivered'),
    (29, 23, 9, 3, DATE '2023-06-25', 'delivered'),
    (30, 9, 5, 4, DATE '2023-07-05', 'pending'),
    (31, 7, 10, 1, DATE '2023-07-13', 'shipped'),
    (32, 2, 7, 1, DATE '2023-08-06', 'delivered'),
    (33, 27, 4, 4, DATE '2023-08-06', 'shipped'),
    (34, 3, 8, 1, DATE '2023-08-07', 'delivered'),
    (35, 12, 1, 1, DATE '2023-08-09', 'delivered'),
    (36, 15, 11, 2, DATE '2023-08-17', 'pending'),
    (37, 21, 10, 2, DATE '2023-08-17', 'cancelled'),
    (38, 25, 5, 1, DATE '2023-08-20', 'delivered'),
    (39, 1, 9, 2, DATE '2023-09-08', 'pending'),
    (40, 16, 6, 1, DATE '2023-09-12', 'delivered'),
    (41, 29, 11, 5, DATE '2023-10-03', 'delivered'),
    (42, 18, 18, 3, DATE '2023-10-26', 'delivered'),
    (43, 23, 3, 1, DATE '2023-11-19', 'cancelled'),
    (44, 2, 19, 1, DATE '2023-11-21', 'pending'),
    (45, 2, 3, 3, DATE '2023-12-12', 'pending'),
    (46, 18, 4, 3, DATE '2024-01-03', 'delivered'),
    (47, 25, 4, 5, DATE '2024-01-25', 'delivered'),
    (48, 11, 17, 2, DATE '2024-02-04', 'delivered'),
    (49, 11, 3, 2, DATE '2024-02-07', 'cancelled'),
    (50, 27, 15, 1, DATE '2024-02-13', 'shipped'),
    (51, 15, 12, 1, DATE '2024-02-16', 'delivered'),
    (52, 8, 1, 5, DATE '2024-03-09', 'delivered'),
    (53, 28, 5, 2, DATE '2024-03-18', 'delivered'),
    (54, 29, 15, 4, DATE '2024-03-18', 'delivered'),
    (55, 17, 17, 1, DATE '2024-03-20', 'delivered'),
    (56, 4, 12, 1, DATE '2024-04-02', 'delivered'),
    (57, 3, 9, 1, DATE '2024-04-03', 'delivered'),
    (58, 1, 4, 1, DATE '2024-04-27', 'delivered'),
    (59, 23, 8, 1, DATE '2024-05-17', 'shipped'),
    (60, 26, 16, 2, DATE '2024-05-18', 'delivered'),
    (61, 23, 18, 1, DATE '2024-05-21', 'delivered'),
    (62, 1, 5, 4, DATE '2024-06-20', 'pending'),
    (63, 27, 14, 2, DATE '2024-06-22', 'shipped'),
    (64, 4, 14, 5, DATE '2024-07-17', 'delivered'),
    (65, 20, 7, 5, DATE '2024-07-25', 'delivered'),
    (66, 15, 8, 1, DATE '2024-08-06', 'cancelled'),
    (67, 1, 17, 2, DATE '2024-08-08', 'shipped'),
    (68, 26, 11, 1, DATE '2024-08-13', 'delivered'),
    (69, 16, 4, 1, DATE '2024-08-16', 'shipped'),
    (70, 30, 12, 1, DATE '2024-09-05', 'delivered'),
    (71, 3, 6, 5, DATE '2024-09-09', 'delivered'),
    (72, 27, 8, 1, DATE '2024-09-13', 'delivered'),
    (73, 18, 2, 3, DATE '2024-09-18', 'shipped'),
    (74, 29, 15, 1, DATE '2024-10-16', 'cancelled'),
    (75, 27, 15, 2, DATE '2024-11-12', 'pending'),
    (76, 7, 16, 1, DATE '2024-11-12', 'pending'),
    (77, 11, 5, 1, DATE '2024-11-26', 'shipped'),
    (78, 1, 11, 5, DATE '2024-12-01', 'shipped'),
    (79, 7, 12, 1, DATE '2024-12-03', 'pending'),
    (80, 23, 20, 3, DATE '2024-12-12', 'shipped');
