SELECT in_c_crm.orders.id, in_c_crm.orders.customer, in_c_crm.orders.amount, in_c_crm.orders.ordered_on 
FROM in_c_crm.orders